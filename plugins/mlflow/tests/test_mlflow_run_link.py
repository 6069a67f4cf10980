"""MLflow model versions are linked to the MLflow run that logged the pipeline (run_id, and run_link on a server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlflow import MlflowClient
from mlflow_readback import runs_of

from flowyml.testing import (
    flowyml_project,  # noqa: F401 - a fixture (tests take it as a parameter)
    load_pipeline,
    tracked_stack,
)


def test_model_version_points_at_the_pipelines_mlflow_run(flowyml_project: Any, mlflow_env: Any, tmp_path: Path) -> None:
    registry_uri = f"sqlite:///{tmp_path / 'registry.db'}"
    tracker = {"type": "mlflow", "tracking_uri": mlflow_env.tracking_uri, "experiment_name": mlflow_env.experiment_name}
    stack = tracked_stack(
        tracker,
        model_registry={"type": "mlflow_model_registry", "tracking_uri": registry_uri},
        routing={"Model": {"register": True}},
    )
    run = load_pipeline(flowyml_project({"s": stack})).run(stack="s")
    assert run.status == "completed", run.error
    server = MlflowClient(mlflow_env.tracking_uri)
    (logged,) = [r for r in runs_of(server, mlflow_env.experiment_name, run.run_id) if "mlflow.parentRunId" not in r.data.tags]
    version = MlflowClient(registry_uri).get_model_version("toy_model", "1")
    assert version.run_id == logged.info.run_id
    assert version.run_link == f"{mlflow_env.tracking_uri.rstrip('/')}/#/experiments/{logged.info.experiment_id}/runs/{logged.info.run_id}"


def test_without_an_mlflow_tracker_the_version_has_no_run(flowyml_project: Any, mlflow_env: Any, tmp_path: Path) -> None:
    registry_uri = f"sqlite:///{tmp_path / 'registry.db'}"
    stack = tracked_stack({"type": "local"}, model_registry={"type": "mlflow_model_registry", "tracking_uri": registry_uri}, routing={"Model": {"register": True}})
    run = load_pipeline(flowyml_project({"s": stack})).run(stack="s")
    assert run.status == "completed", run.error
    assert not MlflowClient(registry_uri).get_model_version("toy_model", "1").run_id
