"""Per-step settings: retries, retry delay, timeout, resources, and orchestrator-specific sections.

A step declares them in code (``@step(retries=2, timeout=3600,
resources=Resources(cpu=4, memory="16Gi"))``); flowyml.yaml's ``steps:``
section (top level, then the stack's own ``steps:``) overrides them key by key
(:mod:`flowyml.config.step_settings`). Both are checked with the same rules:
:func:`resources_problems` and :func:`settings_problems` return what is wrong,
and each caller turns that into its own error (a :class:`PipelineError` for
code, a :class:`ConfigError` with the YAML line for flowyml.yaml).

How each orchestrator honours a setting (and what it refuses) is the
orchestrator's business: see ``Component.check_step_settings``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import attrs

from flowyml.errors import PipelineError

#: The keys of ``resources`` (in code and in flowyml.yaml).
RESOURCE_KEYS = ("cpu", "memory", "gpu", "gpu_type", "disk")
#: The keys of a step's settings besides the orchestrator sections.
SETTING_KEYS = ("retries", "retry_delay", "timeout", "resources")

_UNITS = {
    "": None, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
}
_QUANTITY = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]i?)?\s*$")
_GPU_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def parse_quantity(value: Any) -> int:
    """Bytes of a memory or disk quantity: ``"16Gi"``, ``"512Mi"``, ``"100G"`` (a ValueError says why not)."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f"expected a quantity with a unit such as '16Gi', '512Mi' or '100G', got {_show(value)}")
    match = _QUANTITY.match(value)
    if match is None or match.group(2) is None:
        raise ValueError(f"{value!r} is not a quantity: write a number and a unit (Ki, Mi, Gi, Ti or K, M, G, T), e.g. '16Gi'")
    size = float(match.group(1)) * _UNITS[match.group(2)]  # type: ignore[operator]
    if size < 1:
        raise ValueError(f"{value!r} must be positive")
    return int(size)


def _show(value: Any) -> str:
    from flowyml.config.value_kinds import describe

    return describe(value)


def resources_problems(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(key, message)`` for each wrong resource value (unknown keys included)."""
    found: list[tuple[str, str]] = []
    for key, value in values.items():
        if key not in RESOURCE_KEYS:
            found.append((str(key), f"unknown resource {key!r}; resources are: {', '.join(RESOURCE_KEYS)}"))
        elif value is None:
            continue
        elif key == "cpu":
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
                found.append((key, f"cpu must be a positive number of cores, got {_show(value)}"))
        elif key == "gpu":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                found.append((key, f"gpu must be a whole number of GPUs (0 or more), got {_show(value)}"))
        elif key == "gpu_type":
            if not isinstance(value, str) or not _GPU_TYPE.match(value):
                found.append((key, f"gpu_type must name a GPU model, e.g. 'nvidia-tesla-t4', got {_show(value)}"))
        else:  # memory, disk
            try:
                parse_quantity(value)
            except ValueError as exc:
                found.append((key, f"{key}: {exc}"))
    if values.get("gpu_type") is not None and values.get("gpu") in (None, 0) and not any(k == "gpu" for k, _ in found):
        found.append(("gpu_type", "gpu_type needs gpu: the number of GPUs (e.g. gpu: 1)"))
    return found


def settings_problems(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(key, message)`` for each wrong value of retries, retry_delay and timeout."""
    found: list[tuple[str, str]] = []
    for key in ("retries",):
        value = values.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            found.append((key, f"retries must be a whole number (0 or more), got {_show(value)}"))
    for key in ("retry_delay", "timeout"):
        value = values.get(key)
        if value is None:
            continue
        low = "0 or more" if key == "retry_delay" else "above 0"
        bad = isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
        if bad or value < 0 or (key == "timeout" and value == 0):
            found.append((key, f"{key} must be a number of seconds ({low}), got {_show(value)}"))
    return found


@attrs.frozen(init=False)
class Resources:
    """What one step needs to run: ``Resources(cpu=4, memory="16Gi", gpu=1, gpu_type="nvidia-tesla-t4", disk="100Gi")``.

    ``cpu`` is a number of cores, ``memory`` and ``disk`` quantities with a
    unit (``Ki``/``Mi``/``Gi``/``Ti`` or ``K``/``M``/``G``/``T``), ``gpu`` a number
    of GPUs and ``gpu_type`` their model. Every field is optional; a wrong
    value or an unknown key is a :class:`~flowyml.errors.PipelineError`.
    """

    cpu: float | None = None
    memory: str | None = None
    gpu: int | None = None
    gpu_type: str | None = None
    disk: str | None = None

    def __init__(self, **values: Any) -> None:
        problems = resources_problems(values)
        if problems:
            raise PipelineError(f"Resources: {problems[0][1]}", hint="e.g. Resources(cpu=4, memory='16Gi', gpu=1, gpu_type='nvidia-tesla-t4', disk='100Gi')")
        self.__attrs_init__(**values)

    @property
    def memory_bytes(self) -> int | None:
        return None if self.memory is None else parse_quantity(self.memory)

    @property
    def disk_bytes(self) -> int | None:
        return None if self.disk is None else parse_quantity(self.disk)

    def given(self) -> dict[str, Any]:
        """The fields that are set."""
        return {k: v for k, v in attrs.asdict(self).items() if v is not None}

    def merged(self, values: Mapping[str, Any]) -> Resources:
        """These resources with ``values`` (already checked) written over them."""
        return Resources(**{**self.given(), **values})


@attrs.frozen(kw_only=True)
class Origin:
    """Where one setting was written: a YAML path and line, or the step's code."""

    path: str | None = None
    line: int | None = None
    file: str | None = None

    def describe(self, step: str, key: str) -> str:
        if self.path is None:
            return f"@step({key}=...) of step {step!r}"
        where = f"{self.file}:{self.line} " if self.file and self.line else ""
        return f"{where}{self.path}"


@attrs.frozen(kw_only=True)
class StepSettings:
    """The settings a step runs with (code, then flowyml.yaml, merged)."""

    #: Times the step is tried again after it failed (0: not retried).
    retries: int = 0
    #: Seconds between a failed attempt and the next one.
    retry_delay: float = 0.0
    #: Seconds one attempt may take (None: no limit).
    timeout: float | None = None
    resources: Resources = attrs.field(factory=Resources)
    #: Orchestrator sections (``vertex: {machine_type: ...}``), by section name.
    orchestrator: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    #: Where each setting came from, by dotted key (``timeout``, ``resources.gpu``, ``vertex.machine_type``).
    origins: Mapping[str, Origin] = attrs.field(factory=dict, eq=False, repr=False)

    @property
    def attempts(self) -> int:
        return self.retries + 1

    def section(self, *names: str) -> dict[str, Any]:
        """The first orchestrator section of ``names`` that is written (empty when none is)."""
        for name in names:
            if name in self.orchestrator:
                return dict(self.orchestrator[name])
        return {}

    def origin(self, key: str) -> Origin:
        return self.origins.get(key) or Origin()

    def is_default(self) -> bool:
        return self == StepSettings()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form (the run snapshot carries it to remote steps)."""
        return {
            "retries": self.retries,
            "retry_delay": self.retry_delay,
            "timeout": self.timeout,
            "resources": self.resources.given(),
            "orchestrator": {k: dict(v) for k, v in self.orchestrator.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StepSettings:
        return cls(
            retries=int(data.get("retries") or 0),
            retry_delay=float(data.get("retry_delay") or 0.0),
            timeout=None if data.get("timeout") is None else float(data["timeout"]),
            resources=Resources(**dict(data.get("resources") or {})),
            orchestrator={k: dict(v) for k, v in (data.get("orchestrator") or {}).items()},
        )


def code_settings(step: str, retries: int, retry_delay: float, timeout: float | None, resources: Resources | None) -> StepSettings:
    """The settings a ``@step(...)`` declares, checked (a PipelineError names the step and the argument)."""
    problems = settings_problems({"retries": retries, "retry_delay": retry_delay, "timeout": timeout})
    if problems:
        key, message = problems[0]
        raise PipelineError(f"step {step!r}: @step({key}=...): {message}")
    if resources is not None and not isinstance(resources, Resources):
        raise PipelineError(
            f"step {step!r}: @step(resources=...) takes a flowyml.Resources, got {type(resources).__name__}",
            hint="from flowyml import Resources; @step(resources=Resources(cpu=4, memory='16Gi'))",
        )
    return StepSettings(
        retries=retries, retry_delay=float(retry_delay), timeout=None if timeout is None else float(timeout), resources=resources or Resources()
    )
