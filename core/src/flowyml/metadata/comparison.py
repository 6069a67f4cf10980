"""Comparing two runs: their parameters and metrics side by side."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from flowyml.errors import FlowymlError

if TYPE_CHECKING:
    from flowyml.client import Client
    from flowyml.runner.result import PipelineRun

__all__ = ["MISSING", "ComparedValue", "Comparison", "compare", "values_of"]

#: A value one of the runs does not have.
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()


@attrs.frozen
class ComparedValue:
    kind: str  # param | metric
    name: str
    a: Any
    b: Any

    @property
    def differs(self) -> bool:
        return bool(self.a != self.b)


@attrs.define
class Comparison:
    rows: list[ComparedValue]
    #: Why some values could not be read (an artifact store that is gone, ...).
    notes: list[str] = attrs.field(factory=list)


def values_of(client: Client, run: PipelineRun, notes: list[str]) -> dict[tuple[str, str], Any]:
    """(kind, name) -> value: the run's parameters, its Parameters artifacts and its Metrics artifacts."""
    found: dict[tuple[str, str], Any] = {("param", k): v for k, v in run.params.items()}
    for step in run.steps.values():
        for artifact in step.outputs.values():
            kind = {"Parameters": "param", "Metrics": "metric"}.get(artifact.artifact_type)
            if kind is None:
                continue
            try:
                data = dict(client.load_artifact(artifact).data)
            except FlowymlError as exc:
                notes.append(f"run {run.run_id}: {step.name}.{artifact.output_name} not read: {exc.message}")
                continue
            for key, value in data.items():
                name = key if (kind, key) not in found else f"{step.name}.{key}"
                found[(kind, name)] = value
    return found


def compare(client: Client, a: PipelineRun, b: PipelineRun) -> Comparison:
    """Every parameter and metric of ``a`` and ``b``: parameters first, then metrics, by name."""
    notes: list[str] = []
    left, right = values_of(client, a, notes), values_of(client, b, notes)
    keys = sorted(set(left) | set(right), key=lambda k: (k[0] != "param", k[1]))
    return Comparison([ComparedValue(kind, name, left.get((kind, name), MISSING), right.get((kind, name), MISSING)) for kind, name in keys], notes)
