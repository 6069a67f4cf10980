"""The ``mlflow`` experiment tracker component (mlflow is imported when a run starts, not before)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import flowyml
from flowyml.plugins.component import OptionProblem
from flowyml.plugins.types import RunInfo
from flowyml.trackers import SessionTracker
from flowyml_mlflow.options import MlflowTrackerOptions, http_problems

if TYPE_CHECKING:
    from flowyml_mlflow.session import MlflowRunSession


class MlflowTracker(SessionTracker):
    """One MLflow run per pipeline run; Metrics as metric histories, Parameters as params.

    With ``nested_runs: true`` each step logs into a nested run of its own.
    """

    kind = "experiment_tracker"
    Options = MlflowTrackerOptions

    @classmethod
    def check_options(cls, options: MlflowTrackerOptions) -> list[OptionProblem]:
        return http_problems(options)

    def describe(self) -> str:
        where = self.options.tracking_uri or "MLFLOW_TRACKING_URI / MLflow's default"
        experiment = self.options.experiment_name or "<pipeline name>"
        return f"mlflow tracker at {where}, experiment {experiment}" + (", nested runs per step" if self.options.nested_runs else "")

    @flowyml.hookimpl
    def flowyml_component_check(self) -> list[str]:
        from flowyml_mlflow.connection import call, make_client, resolve_uri

        uri = resolve_uri(self.options.tracking_uri)
        client = make_client(self.options.tracking_uri)
        call("listing experiments", lambda: client.search_experiments(max_results=1), uri=uri,
             retries=self.options.request_retries, timeout=self.options.request_timeout)
        return [f"MLflow tracking server at {uri} answers"]

    def new_session(self, run: RunInfo) -> MlflowRunSession:
        from flowyml_mlflow.session import MlflowRunSession

        return MlflowRunSession(self.options, run)
