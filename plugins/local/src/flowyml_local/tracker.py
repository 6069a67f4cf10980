"""The local experiment tracker: metrics and parameters in the project's metadata store."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import flowyml
from flowyml.plugins.component import Component, NoOptions
from flowyml.plugins.types import RunInfo


class LocalExperimentTracker(Component):
    """Shown by ``flowyml runs show RUN``."""

    kind = "experiment_tracker"
    Options = NoOptions

    def __init__(self, options: Any, context: Any) -> None:
        super().__init__(options, context)
        self.run_id: str | None = None

    def describe(self) -> str:
        return f"local tracker in {self.context.metadata.display}"

    @flowyml.hookimpl
    def flowyml_tracker_start_run(self, run: RunInfo) -> None:
        self.run_id = run.run_id
        self.context.metadata.tracker_start(run.run_id, run.pipeline_name, run.stack_name)

    @flowyml.hookimpl
    def flowyml_tracker_log_metrics(
        self, metrics: Mapping[str, float], step: int | None, metadata: Mapping[str, Any], step_name: str
    ) -> None:
        meta = json.dumps(dict(metadata), default=str) if metadata else None
        self.context.metadata.add_tracked_metrics(str(self.run_id), step_name, metrics.items(), step, meta)

    @flowyml.hookimpl
    def flowyml_tracker_log_params(self, params: Mapping[str, Any], step_name: str) -> None:
        values = [(key, json.dumps(value, default=str)) for key, value in params.items()]
        self.context.metadata.add_tracked_params(str(self.run_id), step_name, values)

    @flowyml.hookimpl
    def flowyml_tracker_end_run(self, status: str) -> None:
        self.context.metadata.tracker_end(str(self.run_id), status)
