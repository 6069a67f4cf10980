"""The ``mlflow`` experiment tracker component (mlflow is imported when a run starts, not before)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import flowyml
from flowyml.errors import TrackerError
from flowyml.plugins.component import Component, ComponentContext
from flowyml.plugins.types import RunInfo
from flowyml_mlflow.options import MlflowTrackerOptions, check_http_options

if TYPE_CHECKING:
    from flowyml_mlflow.session import MlflowRunSession


class MlflowTracker(Component):
    """One MLflow run per pipeline run; Metrics as metric histories, Parameters as params.

    With ``nested_runs: true`` each step logs into a nested run of its own.
    """

    kind = "experiment_tracker"
    Options = MlflowTrackerOptions

    def __init__(self, options: MlflowTrackerOptions, context: ComponentContext) -> None:
        super().__init__(options, context)
        check_http_options(options, context)
        self.session: MlflowRunSession | None = None

    def describe(self) -> str:
        where = self.options.tracking_uri or "MLFLOW_TRACKING_URI / MLflow's default"
        experiment = self.options.experiment_name or "<pipeline name>"
        return f"mlflow tracker at {where}, experiment {experiment}" + (", nested runs per step" if self.options.nested_runs else "")

    def _open(self) -> MlflowRunSession:
        if self.session is None or not self.session.run_id:
            raise TrackerError("the mlflow tracker was asked to log before its run was started")
        return self.session

    @flowyml.hookimpl
    def flowyml_component_check(self) -> list[str]:
        from flowyml_mlflow.connection import http_settings, make_client, resolve_uri, translate

        uri = resolve_uri(self.options.tracking_uri)
        client = make_client(self.options.tracking_uri)
        try:
            with http_settings(self.options.request_retries, self.options.request_timeout):
                client.search_experiments(max_results=1)
        except Exception as exc:
            raise translate(exc, uri, "listing experiments") from exc
        return [f"MLflow tracking server at {uri} answers"]

    @flowyml.hookimpl
    def flowyml_tracker_start_run(self, run: RunInfo) -> None:
        from flowyml_mlflow.session import MlflowRunSession

        session = MlflowRunSession(self.options, run)
        session.start()
        self.session = session

    @flowyml.hookimpl
    def flowyml_tracker_log_metrics(
        self, metrics: Mapping[str, float], step: int | None, metadata: Mapping[str, Any], step_name: str
    ) -> None:
        self._open().log_metrics(metrics, step, metadata, step_name)

    @flowyml.hookimpl
    def flowyml_tracker_log_params(self, params: Mapping[str, Any], step_name: str) -> None:
        self._open().log_params(params, step_name)

    @flowyml.hookimpl
    def flowyml_tracker_end_run(self, status: str) -> None:
        self._open().end(status)
        self.session = None
