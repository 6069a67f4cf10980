"""Options of the MLflow components, as users write them in flowyml.yaml."""

from __future__ import annotations

from typing import Any

import attrs

from flowyml.plugins.component import OptionProblem


@attrs.frozen
class MlflowTrackerOptions:
    """``experiment_tracker: {type: mlflow, ...}``."""

    #: MLflow tracking URI (``http://host:5000``, ``sqlite:///mlflow.db``, ``databricks``);
    #: empty: ``MLFLOW_TRACKING_URI`` or MLflow's own default.
    tracking_uri: str | None = None
    #: Experiment the runs go to; empty: the pipeline's name.
    experiment_name: str | None = None
    #: Give every pipeline step a nested MLflow run under the pipeline's run.
    nested_runs: bool = False
    #: HTTP retries of each MLflow request (FlowyML retries failed calls again on top).
    request_retries: int = 2
    #: Seconds before an MLflow HTTP request times out.
    request_timeout: int = 30


@attrs.frozen
class MlflowRegistryOptions:
    """``model_registry: {type: mlflow_model_registry, ...}``."""

    #: MLflow tracking URI; empty: ``MLFLOW_TRACKING_URI`` or MLflow's default.
    tracking_uri: str | None = None
    #: Model registry URI when it differs from the tracking URI; empty: the tracking URI.
    registry_uri: str | None = None
    #: Alias pointed at the most recently approved version of a model; empty: no alias.
    approved_alias: str = "approved"
    #: HTTP retries of each MLflow request.
    request_retries: int = 2
    #: Seconds before an MLflow HTTP request times out.
    request_timeout: int = 30


def http_problems(options: Any) -> list[OptionProblem]:
    """Retry and timeout values MLflow cannot use."""
    found: list[OptionProblem] = []
    if options.request_retries < 0:
        found.append(OptionProblem("request_retries", "request_retries must be 0 or more", "e.g. request_retries: 2"))
    if options.request_timeout <= 0:
        found.append(OptionProblem("request_timeout", "request_timeout must be a positive number of seconds", "e.g. request_timeout: 30"))
    return found
