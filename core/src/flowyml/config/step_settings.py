"""flowyml.yaml's ``steps:`` sections: per-step settings a platform team changes without touching code.

``steps:`` may be written at the top level (every stack) and inside a stack
(that stack only)::

    steps:
      train_model:                      # a step name, or PIPELINE/STEP for one pipeline's step
        retries: 3
        retry_delay: 30
        timeout: 7200
        resources: { cpu: 8, memory: 32Gi, gpu: 1, gpu_type: nvidia-tesla-t4, disk: 100Gi }
        vertex: { machine_type: n1-standard-8 }
        sagemaker: { instance_type: ml.g4dn.xlarge }

Precedence, key by key: the ``@step(...)`` arguments, then the top-level
``steps:``, then the stack's ``steps:``. A key for an orchestrator the stack
does not use (``sagemaker:`` on a Vertex stack) is ignored, so one file serves
every stack; a section name that is no orchestrator at all is an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from flowyml.config.value_kinds import describe
from flowyml.core.settings import (
    RESOURCE_KEYS,
    SETTING_KEYS,
    Origin,
    StepSettings,
    resources_problems,
    settings_problems,
)
from flowyml.errors import ConfigError

#: Orchestrator section names every flowyml.yaml may use (the first-party orchestrators; stacks add their own types).
BUILTIN_SECTIONS = ("local", "vertex", "vertex_ai", "sagemaker")

Fail = Callable[..., ConfigError]


@attrs.frozen
class StepOverride:
    """One step's entry under ``steps:`` as written (checked), with the path and line of each key."""

    key: str
    path: str
    values: dict[str, Any]
    resources: dict[str, Any]
    sections: dict[str, dict[str, Any]]
    origins: dict[str, Origin]
    line: int | None = None

    @property
    def pipeline(self) -> str | None:
        return self.key.split("/", 1)[0] if "/" in self.key else None

    @property
    def step(self) -> str:
        return self.key.split("/", 1)[-1]


def build_steps(raw: Any, base: str, fail: Fail, sections: tuple[str, ...], line: Callable[[str], int | None], file: str | None) -> dict[str, StepOverride]:
    """Check one ``steps:`` mapping (``base`` is its dotted path) and return its entries."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise fail(f"steps must map step names to their settings, got {describe(raw)}", base, "e.g. steps: { train_model: { retries: 2, timeout: 3600 } }")
    out: dict[str, StepOverride] = {}
    for key, body in raw.items():
        path = f"{base}.{key}"
        if not isinstance(key, str) or not key or key.count("/") > 1:
            raise fail(f"a step key is a step name (or PIPELINE/STEP), got {key!r}", path)
        out[key] = _build_one(key, body, path, fail, sections, line, file)
    return out


def _build_one(key: str, body: Any, path: str, fail: Fail, sections: tuple[str, ...], line: Callable[[str], int | None], file: str | None) -> StepOverride:
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise fail(f"the settings of step {key!r} must be a mapping, got {describe(body)}", path)
    values: dict[str, Any] = {}
    resources: dict[str, Any] = {}
    found_sections: dict[str, dict[str, Any]] = {}
    origins: dict[str, Origin] = {}

    def origin(dotted: str) -> Origin:
        return Origin(path=f"{path}.{dotted}", line=line(f"{path}.{dotted}"), file=file)

    for name, value in body.items():
        where = f"{path}.{name}"
        if name in ("retries", "retry_delay", "timeout"):
            problems = settings_problems({name: value})
            if problems:
                raise fail(problems[0][1], where)
            values[name] = value
            origins[name] = origin(name)
        elif name == "resources":
            if not isinstance(value, dict):
                raise fail(f"resources must be a mapping ({', '.join(RESOURCE_KEYS)}), got {describe(value)}", where)
            problems = resources_problems(value)
            if problems:
                bad, message = problems[0]
                raise fail(message, f"{where}.{bad}" if bad in value else where, "e.g. resources: { cpu: 4, memory: 16Gi, gpu: 1, gpu_type: nvidia-tesla-t4 }")
            resources = dict(value)
            for resource in value:
                origins[f"resources.{resource}"] = origin(f"resources.{resource}")
        elif name in sections:
            if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
                raise fail(f"the {name} section must be a mapping of option names to values, got {describe(value)}", where)
            found_sections[name] = dict(value)
            for option in value:
                origins[f"{name}.{option}"] = origin(f"{name}.{option}")
        else:
            raise fail(
                f"unknown step setting {name!r}",
                where,
                f"a step takes {', '.join(SETTING_KEYS)} and orchestrator sections ({', '.join(sections)})",
            )
    return StepOverride(key, path, values, resources, found_sections, origins, line(path))


def section_names(raw_stacks: Mapping[str, Any]) -> tuple[str, ...]:
    """The orchestrator section names this file may use: the first-party ones and every orchestrator type its stacks name."""
    names = list(BUILTIN_SECTIONS)
    for body in raw_stacks.values():
        orchestrator = body.get("orchestrator") if isinstance(body, dict) else None
        kind = orchestrator.get("type") if isinstance(orchestrator, dict) else None
        if isinstance(kind, str) and kind not in names:
            names.append(kind)
    return tuple(names)


def resolve(
    pipeline: str,
    nodes: Mapping[str, Any],
    layers: list[Mapping[str, StepOverride]],
    *,
    file: str | None = None,
) -> dict[str, StepSettings]:
    """Each step's settings: the code's, then each layer of ``steps:`` over it (later layers win).

    ``nodes`` maps step names in the run to their graph nodes (``node.step`` is
    the :class:`~flowyml.core.step.Step`). A ``steps:`` key that names no step
    of this pipeline (and is not ``OTHER_PIPELINE/STEP``) is a ConfigError that
    names the pipeline's steps.
    """
    for layer in layers:
        for override in layer.values():
            if override.pipeline is not None and override.pipeline != pipeline:
                continue
            if not any(override.step in (name, node.step.name) for name, node in nodes.items()):
                raise ConfigError(
                    f"pipeline {pipeline!r} has no step {override.step!r}; its steps: {', '.join(nodes)}",
                    path=override.path,
                    line=override.line,
                    file=file,
                    hint="fix the step name under steps:, or write PIPELINE/STEP for a step of another pipeline",
                )
    resolved: dict[str, StepSettings] = {}
    for name, node in nodes.items():
        settings: StepSettings = node.step.settings
        for layer in layers:
            for override in _matching(layer, pipeline, name, node.step.name):
                settings = _apply(settings, override)
        resolved[name] = settings
    return resolved


def _matching(layer: Mapping[str, StepOverride], pipeline: str, node: str, step: str) -> list[StepOverride]:
    """The entries of ``layer`` for this step, least specific first (step name, node name, PIPELINE/...)."""
    found = []
    for key in (step, node, f"{pipeline}/{step}", f"{pipeline}/{node}"):
        override = layer.get(key)
        if override is not None and override not in found:
            found.append(override)
    return found


def _apply(settings: StepSettings, override: StepOverride) -> StepSettings:
    sections = {k: dict(v) for k, v in settings.orchestrator.items()}
    for name, values in override.sections.items():
        sections[name] = {**sections.get(name, {}), **values}
    changes: dict[str, Any] = dict(override.values)
    if "retry_delay" in changes:
        changes["retry_delay"] = float(changes["retry_delay"])
    if "timeout" in changes and changes["timeout"] is not None:
        changes["timeout"] = float(changes["timeout"])
    return attrs.evolve(
        settings,
        **changes,
        resources=settings.resources.merged(override.resources),
        orchestrator=sections,
        origins={**settings.origins, **override.origins},
    )
