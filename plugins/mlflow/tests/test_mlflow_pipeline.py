
"""End to end: a pipeline on a stack whose experiment tracker is mlflow (a real server), and the registry flow."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from mlflow import MlflowClient
from mlflow_readback import read_pipeline_run
from tcp_proxy import TcpProxy

from flowyml import Client
from flowyml.metadata.store import MetadataStore
from flowyml.models import approve_model
from flowyml.runner.result import TrackerLink
from flowyml.testing import (
    flowyml_project,  # noqa: F401 - a fixture (tests take it as a parameter)
    load_pipeline,
    tracked_stack,
)


def test_pipeline_run_is_one_mlflow_run(flowyml_project: Any, mlflow_env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_URI", mlflow_env.tracking_uri)  # the spec's `tracking_uri: ${MLFLOW_URI}`
    tracker = {"type": "mlflow", "tracking_uri": "${MLFLOW_URI}", "experiment_name": mlflow_env.experiment_name}
    folder = flowyml_project({"mlflow-stack": tracked_stack(tracker)})
    run = load_pipeline(folder).run(stack="mlflow-stack")
    assert run.status == "completed", run.error

    got = read_pipeline_run(mlflow_env.tracking_uri, mlflow_env.experiment_name, run.run_id)
    assert got["name"] == run.run_id and got["status"] == "FINISHED"
    assert got["tags"]["flowyml.pipeline"] == "tracked" and got["tags"]["flowyml.stack"] == "mlflow-stack"
    assert got["params"] == {"learning_rate": "0.01", "epochs": "3", "optimizer.name": "adam", "optimizer.betas": "[0.9, 0.99]"}
    assert got["metrics"]["loss"] == [(0, 1.0), (1, 0.5), (2, pytest.approx(1 / 3))]
    assert got["metrics"]["lr"] == [(0, 0.01), (1, 0.01), (2, 0.01)]
    assert got["metrics"]["accuracy"] == [(0, 0.75)] and got["metrics"]["report.f1"] == [(0, 0.7)]
    assert got["tags"]["flowyml.metadata.evaluate.model_version"] == "1.0.0"
    assert got["tags"]["flowyml.step.epoch_2"] == "loss, lr" and got["tags"]["flowyml.step.params"].startswith("epochs")
    logged = [e for e in run.events if e.action == "log"]
    assert logged and all(e.status == "ok" for e in logged)
    # where the MLflow run is, recorded with the run; the URI came from ${MLFLOW_URI}, so it stays masked
    page = f"***/#/experiments/{got['experiment_id']}/runs/{got['run_id']}"
    assert run.tracker_links == [TrackerLink("mlflow", page)] and not run.tracker_links[0].is_url
    assert Client(folder).get_run(run.run_id).tracker_links == run.tracker_links


def test_nested_runs_per_step(flowyml_project: Any, mlflow_env: Any) -> None:
    tracker = {"type": "mlflow", "tracking_uri": mlflow_env.tracking_uri, "experiment_name": mlflow_env.experiment_name, "nested_runs": True}
    folder = flowyml_project({"s": tracked_stack(tracker)})
    run = load_pipeline(folder).run(stack="s")
    assert run.success, run.error
    got = read_pipeline_run(mlflow_env.tracking_uri, mlflow_env.experiment_name, run.run_id)
    page = f"{mlflow_env.tracking_uri.rstrip('/')}/#/experiments/{got['experiment_id']}/runs/{got['run_id']}"
    assert Client(folder).get_run(run.run_id).tracker_links == [TrackerLink("mlflow", page)]  # the pipeline's MLflow run page
    assert set(got["children"]) == {"params", "epoch", "epoch_2", "epoch_3", "evaluate"}
    assert got["children"]["epoch_3"]["metrics"]["loss"] == [(2, pytest.approx(1 / 3))]
    assert got["children"]["params"]["params"]["optimizer.name"] == "adam"
    assert {c["status"] for c in got["children"].values()} == {"FINISHED"} and got["status"] == "FINISHED"


def test_failed_run_is_mirrored_as_failed(flowyml_project: Any, mlflow_env: Any) -> None:
    tracker = {"type": "mlflow", "tracking_uri": mlflow_env.tracking_uri, "experiment_name": mlflow_env.experiment_name}
    folder = flowyml_project({"s": tracked_stack(tracker)})
    pipeline = load_pipeline(folder)

    def boom() -> None:
        raise RuntimeError("training diverged")

    pipeline.fn.__globals__["HOOKS"]["train_model"] = boom
    run = pipeline.run(stack="s")
    assert run.status == "failed"
    got = read_pipeline_run(mlflow_env.tracking_uri, mlflow_env.experiment_name, run.run_id)
    assert got["status"] == "FAILED" and [s for s, _ in got["metrics"]["loss"]] == [0, 1, 2]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_server_fails_the_run_naming_the_uri(flowyml_project: Any, mlflow_env: Any) -> None:
    uri = f"http://127.0.0.1:{closed_port()}"
    run = load_pipeline(flowyml_project({"s": tracked_stack({"type": "mlflow", "tracking_uri": uri, "request_retries": 0})})).run(stack="s")
    assert run.status == "failed"
    failure = next(e for e in run.events if e.status == "failed")
    assert f"MLflow tracking server at {uri} is unreachable" in failure.detail
    assert "mlflow server --host 127.0.0.1" in failure.detail  # the hint


def test_unreachable_server_with_on_route_error_warn_completes(flowyml_project: Any, mlflow_env: Any) -> None:
    uri = f"http://127.0.0.1:{closed_port()}"
    stack = tracked_stack({"type": "mlflow", "tracking_uri": uri, "request_retries": 0}, on_route_error="warn")
    run = load_pipeline(flowyml_project({"s": stack})).run(stack="s")
    assert run.status == "completed", run.error
    assert {a.step_name for a in run.artifacts} == {"params", "load_data", "epoch", "epoch_2", "epoch_3", "train_model", "evaluate"}
    assert any(e.status == "skipped" and "not open" in e.detail for e in run.events)


@pytest.mark.parametrize("policy", ["fail", "warn"])
def test_server_lost_mid_run_keeps_every_artifact(flowyml_project: Any, mlflow_env: Any, policy: str) -> None:
    proxy = TcpProxy(mlflow_env.server.port)
    uri = f"http://127.0.0.1:{proxy.port}"
    tracker = {"type": "mlflow", "tracking_uri": uri, "experiment_name": mlflow_env.experiment_name, "request_retries": 0}
    folder = flowyml_project({"s": tracked_stack(tracker, on_route_error=policy)})
    pipeline = load_pipeline(folder)
    pipeline.fn.__globals__["HOOKS"]["train_model"] = proxy.cut
    run = pipeline.run(stack="s")
    assert run.status == ("failed" if policy == "fail" else "completed"), run.error
    stored = MetadataStore.for_project(folder).list_artifacts(run.run_id)
    assert {a["step_name"] for a in stored} == {"params", "load_data", "epoch", "epoch_2", "epoch_3", "train_model", "evaluate"}
    failed = [e for e in run.events if e.status == "failed"]
    assert failed and all(uri in e.detail for e in failed)
    # what was logged before the cut is in MLflow (the run itself could not be closed)
    got = read_pipeline_run(mlflow_env.tracking_uri, mlflow_env.experiment_name, run.run_id)
    assert [s for s, _ in got["metrics"]["loss"]] == [0, 1, 2] and got["status"] == "RUNNING"


def test_registry_on_approval_flow(flowyml_project: Any, mlflow_env: Any, tmp_path: Path) -> None:
    """register: true + on_approval: the version waits as pending; approve_model sets the tag and the alias."""
    registry_uri = f"sqlite:///{tmp_path / 'registry.db'}"
    tracker = {"type": "mlflow", "tracking_uri": mlflow_env.tracking_uri, "experiment_name": mlflow_env.experiment_name}
    stack = tracked_stack(
        tracker,
        model_registry={"type": "mlflow_model_registry", "tracking_uri": registry_uri},
        model_deployer={"type": "local"},  # deploy: true needs one; this test approves without deploying
        routing={"Model": {"register": True, "deploy": True, "deploy_condition": "on_approval"}},
    )
    folder = flowyml_project({"s": stack})
    run = load_pipeline(folder).run(stack="s")
    assert run.status == "completed", run.error
    client = MlflowClient(registry_uri)
    version = client.get_model_version("toy_model", "1")
    assert version.source == run.artifact("train_model").uri
    assert version.tags["flowyml.version"] == "1.0.0" and version.tags["flowyml.status"] == "pending_approval"
    assert version.tags["flowyml.run_id"] == run.run_id and "flowyml.framework" not in version.tags  # a dict model: no framework
    assert float(version.tags["flowyml.metric.accuracy"]) == 0.75  # from evaluate, which consumed the model

    assert any(e.action == "decision" and "waiting for `flowyml model approve" in e.detail for e in run.events)
    approved, deployment = approve_model("toy_model", "1.0.0", stack="s", deploy=False)
    assert approved.status == "approved" and deployment is None
    assert client.get_model_version_by_alias("toy_model", "approved").tags["flowyml.status"] == "approved"


def test_registry_on_server_refuses_local_sources_with_the_fix(flowyml_project: Any, mlflow_env: Any) -> None:
    tracker = {"type": "mlflow", "tracking_uri": mlflow_env.tracking_uri, "experiment_name": mlflow_env.experiment_name}
    stack = tracked_stack(tracker, model_registry={"type": "mlflow_model_registry", "tracking_uri": mlflow_env.tracking_uri},
                          routing={"Model": {"register": True}})
    run = load_pipeline(flowyml_project({"s": stack})).run(stack="s")
    assert run.status == "failed"
    failure = next(e for e in run.events if e.action == "register" and e.status == "failed")
    assert "Invalid model version source" in failure.detail and "registry_uri: sqlite:///mlflow.db" in failure.detail


def test_unknown_option_names_the_yaml_line(flowyml_project: Any, mlflow_env: Any) -> None:
    from flowyml.errors import ConfigError

    folder = flowyml_project({"s": tracked_stack({"type": "mlflow", "tracking_url": "http://x"})})
    with pytest.raises(ConfigError, match=r"flowyml.yaml:\d+ stacks.s.experiment_tracker.tracking_url"):
        load_pipeline(folder).run(stack="s")
