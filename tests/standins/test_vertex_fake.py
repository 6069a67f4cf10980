"""Self-tests of the Vertex AI fake, driven by the real google-cloud-aiplatform SDK.

Run with::

    PYTHONPATH=tests pytest -p standins.vertex_fake tests/standins/test_vertex_fake.py
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from standins.vertex_fake import VertexFake

IMAGE = "us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-3:latest"

# A minimal KFP v2 IR pipeline spec (what `kfp.compiler` writes), one container task.
PIPELINE_SPEC: dict[str, Any] = {
    "pipelineInfo": {"name": "fake-train"},
    "schemaVersion": "2.1.0",
    "sdkVersion": "kfp-2.7.0",
    "components": {
        "comp-train": {
            "executorLabel": "exec-train",
            "inputDefinitions": {"parameters": {"lr": {"parameterType": "NUMBER_DOUBLE"}}},
        }
    },
    "deploymentSpec": {
        "executors": {
            "exec-train": {
                "container": {
                    "image": "python:3.11",
                    "command": ["python", "-c"],
                    "args": ["print('train')"],
                }
            }
        }
    },
    "root": {
        "dag": {
            "tasks": {
                "train": {
                    "componentRef": {"name": "comp-train"},
                    "taskInfo": {"name": "train"},
                    "inputs": {
                        "parameters": {
                            "lr": {"componentInputParameter": "lr"},
                        }
                    },
                }
            }
        },
        "inputDefinitions": {"parameters": {"lr": {"parameterType": "NUMBER_DOUBLE"}}},
    },
}


def _aiplatform() -> Any:
    """Import the SDK, skipping the test when it is not installed."""
    return pytest.importorskip(
        "google.cloud.aiplatform", reason="installed by the vertex nox session"
    )


def _paths(fake: VertexFake) -> list[str]:
    """``METHOD decoded-path`` of every Vertex request, without the parent prefix."""
    prefix = f"/projects/{fake.project}/locations/{fake.location}/"
    return [
        f"{r.method} {r.decoded_path.split(prefix, 1)[-1]}"
        for r in fake.requests
        if prefix in r.decoded_path
    ]


def _template(tmp_path: Path) -> str:
    """Write the minimal KFP IR spec to a JSON file and return its path."""
    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps(PIPELINE_SPEC))
    return str(path)


def test_model_registry_versions_and_aliases(vertex_env: VertexFake) -> None:
    """Upload a model and a second version, list versions, add aliases, delete."""
    aiplatform = _aiplatform()
    model = aiplatform.Model.upload(
        display_name="churn",
        artifact_uri="gs://b/m",
        serving_container_image_uri=IMAGE,
        labels={"team": "ml"},
    )
    assert model.version_id == "1"
    assert model.labels == {"team": "ml"}
    model_id = model.name
    v2 = aiplatform.Model.upload(
        display_name="churn",
        artifact_uri="gs://b/m2",
        serving_container_image_uri=IMAGE,
        parent_model=model.resource_name,
        is_default_version=False,
        version_aliases=["candidate"],
    )
    assert v2.name == model_id and v2.version_id == "2"

    registry = aiplatform.models.ModelRegistry(model_id)
    versions = registry.list_versions()
    assert [(v.version_id, list(v.version_aliases)) for v in versions] == [
        ("1", ["default"]),
        ("2", ["candidate"]),
    ]
    registry.add_version_aliases(["champion", "default"], version="2")
    assert vertex_env.model(model_id)["versionId"] == "2"
    assert vertex_env.models[model_id]["2"]["versionAliases"] == [
        "candidate",
        "champion",
        "default",
    ]
    assert vertex_env.models[model_id]["1"]["versionAliases"] == []
    assert registry.get_model(version="champion").version_id == "2"
    assert aiplatform.Model(model_id).version_id == "2"

    stored = vertex_env.models[model_id]["1"]
    assert stored["name"] == f"{vertex_env.parent}/models/{model_id}"
    assert stored["containerSpec"]["imageUri"] == IMAGE
    assert stored["artifactUri"] == "gs://b/m"
    assert stored["supportedDeploymentResourcesTypes"] == ["DEDICATED_RESOURCES"]
    assert stored["createTime"] and stored["versionCreateTime"]

    listed = aiplatform.Model.list(filter='display_name="churn"')
    assert [m.name for m in listed] == [model_id]
    assert aiplatform.Model.list(filter='display_name="other"') == []

    registry.delete_version("1")
    assert list(vertex_env.models[model_id]) == ["2"]
    aiplatform.Model(model_id).delete()
    assert model_id not in vertex_env.models

    uploads = vertex_env.calls("POST", "models:upload")
    assert uploads[0].body["model"]["displayName"] == "churn"
    assert uploads[0].body["model"]["labels"] == {"team": "ml"}
    assert "parentModel" not in uploads[0].body
    assert uploads[1].body["parentModel"].endswith(f"/models/{model_id}")
    assert uploads[0].query.get("$alt") == "json;enum-encoding=int"
    merge = vertex_env.calls("POST", ":mergeVersionAliases")[0]
    assert merge.path.endswith(f"models/{model_id}%402:mergeVersionAliases")
    assert merge.body == {"versionAliases": ["champion", "default"]}
    assert any(r.path.startswith("/ui/") and "/operations/" in r.path for r in vertex_env.requests)
    assert vertex_env.unhandled == [] and vertex_env.blocked_hosts == []


def test_endpoint_deploy_predict_undeploy_delete(vertex_env: VertexFake) -> None:
    """Create an endpoint, deploy a model with dedicated resources, predict, tear down."""
    aiplatform = _aiplatform()
    model = aiplatform.Model.upload(
        display_name="churn", artifact_uri="gs://b/m", serving_container_image_uri=IMAGE
    )
    endpoint = aiplatform.Endpoint.create(display_name="churn-ep", labels={"env": "test"})
    endpoint_id = endpoint.name
    assert vertex_env.endpoints[endpoint_id]["labels"] == {"env": "test"}
    assert [e.name for e in aiplatform.Endpoint.list(filter='display_name="churn-ep"')] == [
        endpoint_id
    ]

    model.deploy(
        endpoint=endpoint,
        machine_type="n1-standard-2",
        min_replica_count=1,
        max_replica_count=1,
        traffic_percentage=100,
    )
    state = vertex_env.endpoints[endpoint_id]
    (deployed,) = state["deployedModels"]
    assert deployed["model"] == model.resource_name and deployed["modelVersionId"] == "1"
    assert deployed["dedicatedResources"]["machineSpec"]["machineType"] == "n1-standard-2"
    assert state["trafficSplit"] == {deployed["id"]: 100}
    assert vertex_env.model(model.name)["deployedModels"] == [
        {"endpoint": state["name"], "deployedModelId": deployed["id"]}
    ]
    deploy = vertex_env.calls("POST", ":deployModel")[0]
    assert deploy.body["trafficSplit"] == {"0": 100}
    resources = deploy.body["deployedModel"]["dedicatedResources"]
    assert (resources["minReplicaCount"], resources["maxReplicaCount"]) == (1, 1)

    prediction = endpoint.predict(instances=[[1, 2], [3, 4]])
    assert prediction.predictions == [0.0, 0.0]
    assert prediction.deployed_model_id == deployed["id"]
    assert vertex_env.calls("POST", ":predict")[0].body["instances"] == [[1, 2], [3, 4]]
    vertex_env.set_predictions(lambda _ep, rows, _params: [sum(r) for r in rows])
    assert endpoint.predict(instances=[[1, 2], [3, 4]]).predictions == [3, 7]

    endpoint.undeploy_all()
    assert vertex_env.endpoints[endpoint_id]["deployedModels"] == []
    assert vertex_env.model(model.name)["deployedModels"] == []
    endpoint.delete()
    assert endpoint_id not in vertex_env.endpoints

    delete, poll = _paths(vertex_env)[-2:]
    assert delete == f"DELETE endpoints/{endpoint_id}"
    assert poll.startswith(f"GET endpoints/{endpoint_id}/operations/")
    assert vertex_env.unhandled == [] and vertex_env.blocked_hosts == []


def test_endpoint_kept_until_delete_operation_polled(vertex_env: VertexFake) -> None:
    """A deleted endpoint stays visible until its operation is polled done."""
    aiplatform = _aiplatform()
    vertex_env.operation_polls_before_done = 1
    endpoint = aiplatform.Endpoint.create(display_name="slow")
    vertex_env.operation_polls_before_done = 5
    operation = endpoint.api_client.delete_endpoint(name=endpoint.resource_name)
    assert endpoint.name in vertex_env.endpoints
    vertex_env.operation_polls_before_done = 0
    vertex_env.complete_operations()
    assert endpoint.name not in vertex_env.endpoints
    operation.result(timeout=30)


def test_pipeline_job_submit_and_wait(vertex_env: VertexFake, tmp_path: Path) -> None:
    """Submit a KFP IR spec; the fake moves it PENDING -> RUNNING -> SUCCEEDED."""
    aiplatform = _aiplatform()
    job = aiplatform.PipelineJob(
        display_name="train",
        template_path=_template(tmp_path),
        pipeline_root="gs://b/root",
        parameter_values={"lr": 0.1},
        labels={"run": "1"},
    )
    job.submit()
    job_id = job.name
    assert vertex_env.pipeline_jobs[job_id]["state"] == "PIPELINE_STATE_PENDING"
    job.wait()
    stored = vertex_env.pipeline_jobs[job_id]
    assert stored["state"] == "PIPELINE_STATE_SUCCEEDED" and stored["endTime"]
    assert stored["pipelineSpec"]["pipelineInfo"]["name"] == "fake-train"
    assert stored["runtimeConfig"]["gcsOutputDirectory"] == "gs://b/root"
    assert stored["runtimeConfig"]["parameterValues"] == {"lr": 0.1}
    assert job.state == aiplatform.gapic.PipelineState.PIPELINE_STATE_SUCCEEDED

    create = vertex_env.calls("POST", "/pipelineJobs")[0]
    assert create.query["pipelineJobId"] == job_id
    assert create.body["displayName"] == "train" and create.body["labels"] == {"run": "1"}
    assert [j.name for j in aiplatform.PipelineJob.list()] == [job_id]
    # submit() probes the pipeline-root bucket through google-cloud-storage: it
    # reaches the fake (STORAGE_EMULATOR_HOST), which answers 404, never GCS.
    assert all(r.path.startswith("/storage/v1/b") for r in vertex_env.unhandled)
    assert vertex_env.blocked_hosts == []


def test_pipeline_job_failure_and_cancel(vertex_env: VertexFake, tmp_path: Path) -> None:
    """A job told to fail makes wait() raise; cancel() ends a job CANCELLED."""
    aiplatform = _aiplatform()
    vertex_env.pipeline_progression = ["PIPELINE_STATE_SUCCEEDED"]
    vertex_env.fail_pipeline("boom: trainer exited 1")
    failing = aiplatform.PipelineJob(
        display_name="bad",
        template_path=_template(tmp_path),
        pipeline_root="gs://b/root",
        job_id="bad-run",
    )
    failing.submit()
    with pytest.raises(RuntimeError, match="boom: trainer exited 1"):
        failing.wait()
    assert vertex_env.pipeline_jobs[failing.name]["state"] == "PIPELINE_STATE_FAILED"

    vertex_env.pipeline_failures.clear()
    vertex_env.pipeline_progression = ["PIPELINE_STATE_RUNNING"]
    running = aiplatform.PipelineJob(
        display_name="long",
        template_path=_template(tmp_path),
        pipeline_root="gs://b/root",
        job_id="long-run",  # default ids are name+timestamp(s): they collide within a second
    )
    running.submit()
    running.cancel()
    assert vertex_env.pipeline_jobs[running.name]["state"] == "PIPELINE_STATE_CANCELLING"
    assert running.state == aiplatform.gapic.PipelineState.PIPELINE_STATE_CANCELLED
    assert vertex_env.calls("POST", ":cancel")[0].path.endswith(
        f"pipelineJobs/{running.name}:cancel"
    )


def test_unknown_paths_are_recorded(vertex_fake: VertexFake) -> None:
    """Unknown paths answer a google JSON error and show up in ``unhandled``."""
    pytest.importorskip("google.cloud.aiplatform", reason="installed by the vertex nox session")
    vertex_fake.reset()
    for method, path, status in [
        ("GET", f"/v1/{vertex_fake.parent}/featurestores", 404),
        ("PATCH", f"/v1/{vertex_fake.parent}/endpoints/1", 501),
    ]:
        request = urllib.request.Request(vertex_fake.endpoint + path, method=method, data=b"{}")
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=5)
        assert caught.value.code == status
        assert json.loads(caught.value.read())["error"]["code"] == status
    assert [(r.method, r.status) for r in vertex_fake.unhandled] == [("GET", 404), ("PATCH", 501)]
