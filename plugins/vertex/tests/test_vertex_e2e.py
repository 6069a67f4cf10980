"""The spec's gcp-prod stack (GCS store, Vertex registry, Vertex endpoint) for each deploy condition.

The orchestrator here is local (the vertex_ai orchestrator has its own tests);
the GCS store runs on the emulator and Vertex is the fake: assertions read the
fake's state and the requests the real SDK sent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from support import spec_pipelines

from flowyml.testing import write_config

STACK = "gcp-prod"


def gcp_prod(gcs_store: dict[str, Any], **model_rule: Any) -> dict[str, Any]:
    return {
        "orchestrator": {"type": "local"},
        "artifact_store": gcs_store,
        "model_registry": {"type": "vertex_model_registry"},
        "model_deployer": {"type": "vertex_endpoint", "timeout": 60},
        "artifact_routing": {
            "Model": {"store": "gcs", "register": True, "deploy": True, "endpoint_name": "production-model", **model_rule},
            "Dataset": {"store": "gcs", "path": "{run_id}/datasets/{step_name}"},
        },
    }


def run_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gcs_store: dict[str, Any], **rule: Any) -> Any:
    monkeypatch.chdir(tmp_path)
    write_config(tmp_path, {STACK: gcp_prod(gcs_store, **rule)})
    return spec_pipelines.spec_pipeline.run(stack=STACK)


def only_model(fake: Any) -> tuple[str, dict[str, Any]]:
    (model_id,) = fake.models
    return model_id, fake.models[model_id]


def test_manual_registers_but_does_not_deploy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gcp: dict[str, Any], gcs_store: dict[str, Any]) -> None:
    fake = gcp["fake"]
    run = run_spec(tmp_path, monkeypatch, gcs_store, deploy_condition="manual")
    assert run.success, run.error
    model_id, versions = only_model(fake)
    version = versions["1"]
    stored = run.artifact("train_model")
    assert version["displayName"] == "fraud_detector"
    assert version["artifactUri"] == stored.uri and stored.uri.startswith(f"gs://{gcp['bucket']}/")
    assert version["containerSpec"]["imageUri"].startswith("us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu")
    assert version["labels"]["managed_by"] == "flowyml"
    assert version["labels"]["flowyml_run_id"] == run.run_id.lower()
    assert version["labels"]["flowyml_framework"] == "sklearn"
    assert "v1-0-0" in version["versionAliases"]
    assert f'"content_hash": "{stored.content_hash}"' in version["versionDescription"]
    assert '"accuracy": 1.0' in version["versionDescription"]
    assert fake.endpoints == {}
    assert any("deploy_condition is manual" in d.detail for d in run.decisions)
    assert fake.unhandled == [] and fake.blocked_hosts == []

    # Deploying by hand later (flowyml model deploy) goes through the same deployer.
    from flowyml.models import deploy_model

    deployment = deploy_model("fraud_detector", "1.0.0", stack=STACK)
    (endpoint,) = fake.endpoints.values()
    assert endpoint["displayName"] == "production-model"
    assert endpoint["deployedModels"][0]["model"].endswith(f"/models/{model_id}")
    assert deployment.details["model"].endswith(f"/models/{model_id}@1")


def test_auto_with_thresholds_met_deploys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gcp: dict[str, Any], gcs_store: dict[str, Any]) -> None:
    fake = gcp["fake"]
    run = run_spec(tmp_path, monkeypatch, gcs_store, deploy_condition="auto", deploy_min_metrics={"accuracy": 0.95, "f1_score": 0.9})
    assert run.success, run.error
    model_id, versions = only_model(fake)
    assert "approved-1" in versions["1"]["versionAliases"]
    (endpoint,) = fake.endpoints.values()
    assert endpoint["displayName"] == "production-model" and endpoint["labels"]["managed_by"] == "flowyml"
    (deployed,) = endpoint["deployedModels"]
    assert deployed["model"].endswith(f"/models/{model_id}") and deployed["modelVersionId"] == "1"
    assert deployed["displayName"] == "fraud_detector:1.0.0"
    assert deployed["dedicatedResources"]["machineSpec"]["machineType"] == "n1-standard-2"
    assert endpoint["trafficSplit"] == {deployed["id"]: 100}
    deploy_call = fake.calls("POST", ":deployModel")[0]
    assert deploy_call.body["trafficSplit"] == {"0": 100}
    assert deploy_call.body["deployedModel"]["model"].endswith(f"/models/{model_id}@1")
    merge = fake.calls("POST", ":mergeVersionAliases")[0]
    assert merge.body == {"versionAliases": ["approved-1"]}
    assert [e.status for e in run.events if e.action == "deploy"] == ["ok"]

    # A second run trains on other data but declares the same version 1.0.0:
    monkeypatch.setattr(spec_pipelines, "frame", _shifted)
    second = spec_pipelines.spec_pipeline.run(stack=STACK, cache=False)
    # different content under an existing version is refused, and nothing is redeployed.
    assert second.status == "failed"
    register = [e for e in second.events if e.action == "register"]
    assert register and register[0].status == "failed" and "already registered" in register[0].detail
    assert list(fake.models[model_id]) == ["1"]
    assert len(fake.calls("POST", ":deployModel")) == 1


def _shifted() -> Any:
    return pd.DataFrame({"x1": [1.0, 2.0, 3.0, 4.0] * 10, "x2": [0.0, 1.0, 0.0, 1.0] * 10, "label": [0, 1, 0, 1] * 10})


def test_auto_with_thresholds_not_met_does_not_deploy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gcp: dict[str, Any], gcs_store: dict[str, Any]) -> None:
    fake = gcp["fake"]
    run = run_spec(tmp_path, monkeypatch, gcs_store, deploy_condition="auto", deploy_min_metrics={"accuracy": 1.5})
    assert run.success, run.error
    _, versions = only_model(fake)
    assert not [a for a in versions["1"]["versionAliases"] if a.startswith("approved")]
    assert fake.endpoints == {} and fake.calls("POST", ":deployModel") == []
    assert any("below" in d.detail for d in run.decisions)


def test_on_approval_marks_pending_then_approve_deploys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gcp: dict[str, Any], gcs_store: dict[str, Any]) -> None:
    fake = gcp["fake"]
    run = run_spec(tmp_path, monkeypatch, gcs_store, deploy_condition="on_approval")
    assert run.success, run.error
    model_id, versions = only_model(fake)
    assert "pending-approval-1" in versions["1"]["versionAliases"]
    assert fake.endpoints == {}

    from flowyml.models import approve_model, get_model

    assert get_model("fraud_detector", "1.0.0", stack=STACK).status == "pending_approval"
    approved, deployment = approve_model("fraud_detector", "1.0.0", stack=STACK)
    assert approved.status == "approved"
    aliases = fake.models[model_id]["1"]["versionAliases"]
    assert "approved-1" in aliases and "pending-approval-1" not in aliases
    assert fake.calls("POST", ":mergeVersionAliases")[-1].body == {"versionAliases": ["-pending-approval-1", "approved-1"]}
    if deployment is not None:
        (endpoint,) = fake.endpoints.values()
        assert endpoint["deployedModels"][0]["modelVersionId"] == "1"


def test_new_version_is_a_vertex_version_of_the_same_model(gcp: dict[str, Any], gcs_store: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from flowyml.plugins.types import ModelVersion
    from flowyml.testing import make_stack

    fake = gcp["fake"]
    monkeypatch.chdir(tmp_path)
    stack = make_stack(tmp_path, {"artifact_store": gcs_store, "model_registry": {"type": "vertex_model_registry"}})
    uri = f"gs://{gcp['bucket']}/m"
    first = stack.hook.flowyml_model_registry_register(model=ModelVersion("churn", "", uri, framework="xgboost", content_hash="a"))
    second = stack.hook.flowyml_model_registry_register(model=ModelVersion("churn", "", uri, framework="xgboost", content_hash="b"))
    assert (first.version, second.version) == ("1", "2")
    model_id, versions = only_model(fake)
    assert list(versions) == ["1", "2"]
    uploads = fake.calls("POST", "models:upload")
    assert "parentModel" not in uploads[0].body and uploads[1].body["parentModel"].endswith(f"/models/{model_id}")
    assert versions["2"]["containerSpec"]["imageUri"].startswith("us-docker.pkg.dev/vertex-ai/prediction/xgboost-cpu")


def test_errors_name_the_fix(gcp: dict[str, Any], gcs_store: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from flowyml.errors import DeploymentError, RegistryError
    from flowyml.plugins.types import ModelVersion
    from flowyml.testing import make_stack

    monkeypatch.chdir(tmp_path)
    stack = make_stack(
        tmp_path,
        {"artifact_store": gcs_store, "model_registry": {"type": "vertex_model_registry"}, "model_deployer": {"type": "vertex_endpoint"}},
    )
    with pytest.raises(RegistryError, match="no Vertex serving container") as caught:
        stack.hook.flowyml_model_registry_register(model=ModelVersion("m", "1", f"gs://{gcp['bucket']}/m", framework="lightgbm"))
    assert "serving_container_image" in caught.value.hint
    with pytest.raises(RegistryError, match="Google Cloud Storage"):
        stack.hook.flowyml_model_registry_register(model=ModelVersion("m", "1", "/tmp/local/m", framework="sklearn"))
    with pytest.raises(DeploymentError, match="not registered in the Vertex AI Model Registry"):
        stack.hook.flowyml_model_deployer_deploy(model=ModelVersion("m", "1", "gs://b/m"), endpoint_name="e", config={})
    # Vertex's own message comes through: deploying a version the fake does not have.
    bogus = ModelVersion("m", "1", "gs://b/m", registry_id=f"{gcp['fake'].parent}/models/404@1")
    with pytest.raises(DeploymentError, match="Model 404 not found"):
        stack.hook.flowyml_model_deployer_deploy(model=bogus, endpoint_name="e", config={})
