"""The local experiment tracker: metrics and parameters in the project's metadata store."""

from __future__ import annotations

import json
import time
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
        return f"local tracker in {self.context.metadata.path}"

    @flowyml.hookimpl
    def flowyml_tracker_start_run(self, run: RunInfo) -> None:
        self.run_id = run.run_id
        self.context.metadata.execute(
            "INSERT OR REPLACE INTO tracker_runs VALUES (?, ?, ?, 'running', ?, NULL)",
            (run.run_id, run.pipeline_name, run.stack_name, time.time()),
        )

    @flowyml.hookimpl
    def flowyml_tracker_log_metrics(
        self, metrics: Mapping[str, float], step: int | None, metadata: Mapping[str, Any], step_name: str
    ) -> None:
        now = time.time()
        meta = json.dumps(dict(metadata), default=str) if metadata else None
        with self.context.metadata.transaction() as cur:
            cur.executemany(
                "INSERT INTO tracker_metrics VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(self.run_id, step_name, key, value, step, meta, now) for key, value in metrics.items()],
            )

    @flowyml.hookimpl
    def flowyml_tracker_log_params(self, params: Mapping[str, Any], step_name: str) -> None:
        with self.context.metadata.transaction() as cur:
            cur.executemany(
                "INSERT INTO tracker_params VALUES (?, ?, ?, ?)",
                [(self.run_id, step_name, key, json.dumps(value, default=str)) for key, value in params.items()],
            )

    @flowyml.hookimpl
    def flowyml_tracker_end_run(self, status: str) -> None:
        self.context.metadata.execute(
            "UPDATE tracker_runs SET status=?, ended_at=? WHERE run_id=?", (status, time.time(), self.run_id)
        )
