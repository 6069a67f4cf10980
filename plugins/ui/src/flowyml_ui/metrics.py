"""A run's Metrics artifacts as values and as at_step series (the metrics page and the comparison read these)."""

from __future__ import annotations

import json
import math
from typing import Any

import attrs

from flowyml.runner.result import PipelineRun

__all__ = ["MetricValue", "RunMetrics", "run_metrics"]


@attrs.frozen
class MetricValue:
    step_name: str
    output: str
    artifact_id: str
    key: str
    value: Any
    at_step: int | None


@attrs.frozen
class RunMetrics:
    values: tuple[MetricValue, ...]
    #: key -> [(at_step, value)], for Metrics recorded with ``at_step``, in step order
    series: dict[str, list[tuple[int, float]]]

    def latest(self) -> dict[str, Any]:
        """Each key's last value (the highest at_step for a series)."""
        out: dict[str, Any] = {}
        for v in sorted(self.values, key=lambda m: -1 if m.at_step is None else m.at_step):
            out[v.key] = v.value
        return out


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def run_metrics(run: PipelineRun) -> RunMetrics:
    """Every Metrics output of ``run``'s steps, loaded (hash-verified) through the run's store."""
    values: list[MetricValue] = []
    for step in run.steps.values():
        for output, artifact in step.outputs.items():
            if artifact.artifact_type != "Metrics":
                continue
            loaded = artifact.load()
            data = dict(getattr(loaded, "data", loaded) or {})
            at = getattr(loaded, "step", None)
            for key, value in data.items():
                values.append(MetricValue(step.name, output, artifact.artifact_id, str(key), value, at))
    series: dict[str, list[tuple[int, float]]] = {}
    for v in values:
        number = _number(v.value)
        if v.at_step is not None and number is not None:
            series.setdefault(v.key, []).append((v.at_step, number))
    for points in series.values():
        points.sort()
    return RunMetrics(values=tuple(values), series=series)


def shown(value: Any) -> str:
    """A metric or parameter value as text (nested values as JSON)."""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)
