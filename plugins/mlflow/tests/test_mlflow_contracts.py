"""flowyml-mlflow passes the tracker and model registry contract suites against a real MLflow."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from mlflow_readback import merged, read_pipeline_run

from flowyml.plugins.types import RunInfo
from flowyml.stacks.stack import Stack
from flowyml.testing import ModelRegistryContract, TrackerContract


class TestMlflowTracker(TrackerContract):
    """One MLflow run per pipeline run on a real ``mlflow server``."""

    @pytest.fixture
    def component_config(self, mlflow_env: Any) -> dict[str, Any]:
        self.env = mlflow_env
        return {"type": "mlflow", "tracking_uri": mlflow_env.tracking_uri, "experiment_name": mlflow_env.experiment_name}

    def read_back(self, stack: Stack, run: RunInfo) -> dict[str, Any]:
        got = read_pipeline_run(self.env.tracking_uri, self.env.experiment_name, run.run_id)
        assert got["children"] == {}
        assert got["name"] == run.run_id
        assert got["tags"]["flowyml.pipeline"] == "contract_pipeline" and got["tags"]["flowyml.stack"] == stack.name
        assert got["tags"]["flowyml.metadata.evaluate.model_version"] == "1.0"
        assert got["tags"]["flowyml.step.train"] == "epochs, learning_rate, loss, optimizer.name"
        return merged(got)


class TestMlflowTrackerNestedRuns(TrackerContract):
    """``nested_runs: true``: each step logs into a nested run of the pipeline's run."""

    @pytest.fixture
    def component_config(self, mlflow_env: Any) -> dict[str, Any]:
        self.env = mlflow_env
        return {"type": "mlflow", "tracking_uri": mlflow_env.tracking_uri, "experiment_name": mlflow_env.experiment_name, "nested_runs": True}

    def read_back(self, stack: Stack, run: RunInfo) -> dict[str, Any]:
        got = read_pipeline_run(self.env.tracking_uri, self.env.experiment_name, run.run_id)
        assert set(got["children"]) == {"train", "evaluate"}
        train = got["children"]["train"]
        assert [s for s, _ in train["metrics"]["loss"]] == [0, 1, 2] and train["params"]["epochs"] == "100"
        assert train["name"] == "train" and train["status"] == "FINISHED"
        assert got["children"]["evaluate"]["tags"]["flowyml.metadata.evaluate.model_version"] == "1.0"
        assert got["metrics"] == {} and got["params"] == {}
        return merged(got)


@pytest.fixture(scope="session")
def sqlite_registry_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A registry database MLflow opens in-process (its SqlAlchemyStore; created once: migrations take seconds)."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow-registry') / 'registry.db'}"


class TestMlflowRegistryOnServer(ModelRegistryContract):
    """Against the ``mlflow server``: it accepts remote sources only, so models 'live' at s3:// URIs.

    The registry records the URI and never reads the model, so no bucket is needed.
    """

    @pytest.fixture
    def component_config(self, mlflow_env: Any) -> dict[str, Any]:
        return {"type": "mlflow_model_registry", "tracking_uri": mlflow_env.tracking_uri}

    @pytest.fixture
    def artifact_uri(self, stack: Stack) -> str:
        return f"s3://flowyml-contract/models/{uuid.uuid4().hex[:10]}/model"


class TestMlflowRegistryOnSqlite(ModelRegistryContract):
    """MLflow's own SQLite store opened directly: local artifact-store URIs are accepted."""

    @pytest.fixture
    def component_config(self, sqlite_registry_uri: str) -> dict[str, Any]:
        return {"type": "mlflow_model_registry", "tracking_uri": sqlite_registry_uri, "approved_alias": "champion"}


def test_registry_records_the_version_in_mlflow(mlflow_env: Any, tmp_path: Path) -> None:
    """What MLflow itself shows: source, tags, description and the approval alias."""
    from mlflow import MlflowClient

    from flowyml.plugins.types import ModelVersion
    from flowyml.testing import make_stack

    stack = make_stack(tmp_path, {"model_registry": {"type": "mlflow_model_registry", "tracking_uri": mlflow_env.tracking_uri}})
    name = f"m-{uuid.uuid4().hex[:8]}"
    model = ModelVersion(name=name, version="1.0.0", uri="s3://b/m", framework="sklearn", content_hash="abc", run_id="run-7",
                         pipeline_name="p", step_name="train", metrics={"accuracy": 0.9, "nested.f1": 0.8}, status="pending_approval")
    registered = stack.hook.flowyml_model_registry_register(model=model)
    assert registered.registry_id == f"models:/{name}/1"
    client = MlflowClient(mlflow_env.tracking_uri)
    mv = client.get_model_version(name, "1")
    assert mv.source == "s3://b/m"
    assert mv.tags["flowyml.version"] == "1.0.0" and mv.tags["flowyml.status"] == "pending_approval"
    assert mv.tags["flowyml.framework"] == "sklearn" and mv.tags["flowyml.run_id"] == "run-7"
    assert float(mv.tags["flowyml.metric.accuracy"]) == 0.9 and float(mv.tags["flowyml.metric.nested.f1"]) == 0.8
    assert "run-7" in mv.description and mv.aliases == []
    stack.hook.flowyml_model_registry_set_status(name=name, version="1.0.0", status="approved")
    assert client.get_model_version_by_alias(name, "approved").version == "1"
    assert client.get_model_version(name, "1").tags["flowyml.status"] == "approved"
    stack.hook.flowyml_model_registry_set_status(name=name, version="1.0.0", status="archived")
    assert client.get_registered_model(name).aliases == {}
    stack.close()
