"""Per-step settings on vertex_ai: machine, accelerator, disk, KFP retry policy and timeout in the compiled spec; refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowyml import Resources
from flowyml.core.settings import StepSettings
from flowyml.errors import ConfigError

IMAGE = "europe-docker.pkg.dev/acme/ml/flowyml-steps:1"
STEPS = ["prepare", "train_model"]


def compile_with(settings: dict[str, StepSettings], **extra: object) -> dict:
    from flowyml_vertex.compiler import compile_spec

    return compile_spec(
        "Spec Pipeline", STEPS, {"train_model": ["prepare"]}, {s: ["flowyml", "step", "run", "--step", s] for s in STEPS},
        image=IMAGE, env={"A": "1"}, cpu_limit="2", memory_limit="4G", settings=settings, **extra,
    )


def executor(spec: dict, task: str) -> dict:
    label = spec["components"][f"comp-{task}"]["executorLabel"]
    return spec["deploymentSpec"]["executors"][label]["container"]


def test_container_task_gets_resources_accelerator_and_a_kfp_retry_policy() -> None:
    settings = StepSettings(retries=2, retry_delay=10, resources=Resources(cpu=8, memory="32Gi", gpu=1, gpu_type="nvidia-tesla-t4"))
    spec = compile_with({"train_model": settings})
    task = spec["root"]["dag"]["tasks"]["train-model"]
    assert task["retryPolicy"] == {"maxRetryCount": 2, "backoffDuration": "10s", "backoffFactor": 1.0, "backoffMaxDuration": "259220s"}
    container = executor(spec, "train-model")
    assert container["image"] == IMAGE
    assert container["resources"] == {
        "resourceCpuLimit": "8",
        "resourceMemoryLimit": "35G",  # 32 GiB, rounded up to whole GB
        "accelerator": {"resourceType": "NVIDIA_TESLA_T4", "resourceCount": "1", "type": "NVIDIA_TESLA_T4", "count": "1"},
    }
    # KFP re-runs the container on failure: the step runner then runs one attempt per container
    assert {"name": "FLOWYML_PLATFORM_RETRIES", "value": "1"} in container["env"]
    # a step without settings keeps the orchestrator's defaults and no retry policy
    assert "retryPolicy" not in spec["root"]["dag"]["tasks"]["prepare"]
    assert executor(spec, "prepare")["resources"] == {"resourceCpuLimit": "2", "resourceMemoryLimit": "4G"}
    assert all(e["name"] != "FLOWYML_PLATFORM_RETRIES" for e in executor(spec, "prepare")["env"])


def test_machine_type_disk_and_timeout_make_a_custom_job_task() -> None:
    settings = StepSettings(
        retries=1, timeout=3600, resources=Resources(gpu=2, gpu_type="NVIDIA_TESLA_V100", disk="200Gi"),
        orchestrator={"vertex": {"machine_type": "n1-standard-8", "boot_disk_type": "pd-standard"}},
    )
    spec = compile_with({"train_model": settings}, service_account="steps@acme.iam.gserviceaccount.com")
    container = executor(spec, "train-model")
    assert container["command"] == ["python3", "-u", "-m", "google_cloud_pipeline_components.container.v1.custom_job.launcher"]
    assert container["image"].startswith("gcr.io/ml-pipeline/google-cloud-pipeline-components:")
    args = container["args"]
    assert args[args.index("--type") + 1] == "CustomJob"
    assert args[args.index("--gcp_resources") + 1] == "{{$.outputs.parameters['gcp_resources'].output_file}}"
    assert spec["components"]["comp-train-model"]["outputDefinitions"] == {"parameters": {"gcp_resources": {"parameterType": "STRING"}}}
    payload = json.loads(args[args.index("--payload") + 1])
    (pool,) = payload["jobSpec"]["workerPoolSpecs"]
    assert pool["machineSpec"] == {"machineType": "n1-standard-8", "acceleratorType": "NVIDIA_TESLA_V100", "acceleratorCount": 2}
    assert pool["diskSpec"] == {"bootDiskType": "pd-standard", "bootDiskSizeGb": 200}
    assert pool["containerSpec"]["imageUri"] == IMAGE
    assert [*pool["containerSpec"]["command"], *pool["containerSpec"]["args"]] == ["flowyml", "step", "run", "--step", "train_model"]
    assert {"name": "A", "value": "1"} in pool["containerSpec"]["env"]
    assert payload["jobSpec"]["scheduling"] == {"timeout": "3600s"}
    assert payload["jobSpec"]["serviceAccount"] == "steps@acme.iam.gserviceaccount.com"
    task = spec["root"]["dag"]["tasks"]["train-model"]
    assert task["retryPolicy"]["maxRetryCount"] == 1 and task["retryPolicy"]["backoffMaxDuration"] == "7200s"


def test_machine_type_from_cpu_and_memory() -> None:
    from flowyml_vertex.step_settings import machine_for

    assert machine_for(None, None) == "n1-standard-4"
    assert machine_for(4, 15 * 10**9) == "n1-standard-4"
    assert machine_for(4, 16 * 10**9) == "n1-standard-8"  # 4 x 3.75 GB is not enough memory
    assert machine_for(3, None) == "n1-standard-4"
    assert machine_for(96, 600 * 10**9) == "n1-highmem-96"
    assert machine_for(128, None) is None
    spec = compile_with({"train_model": StepSettings(timeout=60, resources=Resources(cpu=8, memory="32Gi"))})
    payload = json.loads(executor(spec, "train-model")["args"][3])
    assert payload["jobSpec"]["workerPoolSpecs"][0]["machineSpec"] == {"machineType": "n1-standard-16"}


CONFIG = """\
stacks:
  gcp:
    orchestrator: {{ type: vertex_ai, project: acme, location: europe-west4, image: {image} }}
    artifact_store: {{ type: local, path: ./artifacts }}
steps:
  train_model:
{body}"""


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("    resources: { gpu: 1, gpu_type: nvidia-tesla-t5 }\n", 7, "cannot honour resources.gpu_type of step 'train_model': Vertex AI knows no accelerator 'nvidia-tesla-t5'"),
        ("    resources: { gpu: 1 }\n", 7, "cannot honour resources.gpu of step 'train_model': Vertex AI needs the GPU model"),
        ("    vertex:\n      machine_typ: n1-standard-8\n", 8, "cannot honour vertex.machine_typ of step 'train_model': unknown option 'machine_typ'"),
        ("    timeout: 60\n    resources: { gpu: 1, gpu_type: NVIDIA_L4 }\n", 8, "resources.gpu_type of step 'train_model': NVIDIA_L4 does not attach to the n1 machines"),
        ("    vertex: { boot_disk_type: floppy }\n", 7, "vertex.boot_disk_type of step 'train_model': unknown boot disk type 'floppy'"),
    ],
)
def test_what_vertex_cannot_honour_is_an_error_before_anything_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, line: int, message: str) -> None:
    from flowyml.runner.targets import load_target

    (tmp_path / "pipeline.py").write_text("from support.spec_pipelines import spec_pipeline  # noqa: F401 - the run's target\n")
    (tmp_path / "flowyml.yaml").write_text(CONFIG.format(image=IMAGE, body=body))
    monkeypatch.chdir(tmp_path)
    pipeline = load_target(str(tmp_path / "pipeline.py:spec_pipeline"))
    with pytest.raises(ConfigError, match="the vertex_ai orchestrator of stack 'gcp' cannot honour") as caught:
        pipeline.run(stack="gcp")
    assert message in str(caught.value)
    assert caught.value.line == line and "flowyml.yaml" in str(caught.value)
    from flowyml.client import Client

    assert Client(tmp_path).list_runs() == []  # refused before the run started
