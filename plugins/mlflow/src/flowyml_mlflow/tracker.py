"""The ``mlflow`` experiment tracker component (mlflow is imported when a run starts, not before)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import flowyml
from flowyml.plugins.component import ComponentContext
from flowyml.plugins.types import RunInfo
from flowyml.trackers import SessionTracker
from flowyml_mlflow.options import MlflowTrackerOptions, check_http_options

if TYPE_CHECKING:
    from flowyml_mlflow.session import MlflowRunSession


class MlflowTracker(SessionTracker):
    """One MLflow run per pipeline run; Metrics as metric histories, Parameters as params.

    With ``nested_runs: true`` each step logs into a nested run of its own.
    """

    kind = "experiment_tracker"
    Options = MlflowTrackerOptions

    def __init__(self, options: MlflowTrackerOptions, context: ComponentContext) -> None:
        super().__init__(options, context)
        check_http_options(options, context)

    def describe(self) -> str:
        where = self.options.tracking_uri or "MLFLOW_TRACKING_URI / MLflow's default"
        experiment = self.options.experiment_name or "<pipeline name>"
        return f"mlflow tracker at {where}, experiment {experiment}" + (", nested runs per step" if self.options.nested_runs else "")

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

    def new_session(self, run: RunInfo) -> MlflowRunSession:
        from flowyml_mlflow.session import MlflowRunSession

        return MlflowRunSession(self.options, run)
