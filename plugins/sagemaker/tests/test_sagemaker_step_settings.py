"""Per-step settings on sagemaker: instance type and count, volume, max runtime and retry policies in the definition, checked with botocore."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.session import get_session
from botocore.validate import validate_parameters
from sm_helpers import ROLE, STEP_IMAGE

from flowyml import Resources
from flowyml.core.settings import StepSettings
from flowyml.errors import ConfigError
from flowyml_sagemaker.definition import build_definition
from flowyml_sagemaker.options import OrchestratorOptions

OPTIONS = OrchestratorOptions(role_arn=ROLE, image_uri=STEP_IMAGE)
STEPS = ["prepare", "train_model"]


def definition(settings: dict[str, StepSettings]) -> dict:
    return build_definition(
        OPTIONS, STEPS, lambda s: ["prepare"] if s == "train_model" else [], lambda s: ["flowyml", "step", "run", "--step", s],
        {"A": "1"}, lambda s: settings.get(s, StepSettings()),
    )


def assert_valid_processing_jobs(body: dict) -> None:
    shape = get_session().get_service_model("sagemaker").operation_model("CreateProcessingJob").input_shape
    for step in body["Steps"]:
        report = validate_parameters({**step["Arguments"], "ProcessingJobName": "x"}, shape)
        assert report is None, report


def test_step_settings_become_the_processing_job_and_its_retry_policy() -> None:
    settings = StepSettings(
        retries=2, retry_delay=10, timeout=3600, resources=Resources(disk="100Gi"),
        orchestrator={"sagemaker": {"instance_type": "ml.g4dn.xlarge", "instance_count": 2}},
    )
    body = definition({"train_model": settings})
    steps = {s["Name"]: s for s in body["Steps"]}
    args = steps["train_model"]["Arguments"]
    assert args["ProcessingResources"]["ClusterConfig"] == {"InstanceType": "ml.g4dn.xlarge", "InstanceCount": 2, "VolumeSizeInGB": 100}
    # three attempts of at most 3600 s, two delays of 10 s, and 600 s to load and store
    assert args["StoppingCondition"] == {"MaxRuntimeInSeconds": 3 * 3600 + 2 * 10 + 600}
    assert steps["train_model"]["RetryPolicies"] == [
        {"ExceptionType": ["SageMaker.JOB_INTERNAL_ERROR", "SageMaker.CAPACITY_ERROR"], "IntervalSeconds": 10, "BackoffRate": 1.0, "MaxAttempts": 2}
    ]
    # a step without settings keeps the orchestrator's options and has no retry policy
    assert steps["prepare"]["Arguments"]["ProcessingResources"]["ClusterConfig"] == {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30}
    assert steps["prepare"]["Arguments"]["StoppingCondition"] == {"MaxRuntimeInSeconds": 86400} and "RetryPolicies" not in steps["prepare"]
    assert_valid_processing_jobs(body)


def test_the_instance_type_is_chosen_from_cpu_memory_and_gpus() -> None:
    from flowyml_sagemaker.step_settings import instance_for

    assert instance_for(StepSettings(resources=Resources(cpu=4, memory="16Gi"))) == "ml.m5.xlarge"
    assert instance_for(StepSettings(resources=Resources(cpu=4, memory="17Gi"))) == "ml.m5.2xlarge"
    assert instance_for(StepSettings(resources=Resources(cpu=8, memory="500Gi"))) == "ml.r5.16xlarge"
    assert instance_for(StepSettings(resources=Resources(cpu=8, gpu=1, gpu_type="nvidia-tesla-t4"))) == "ml.g4dn.2xlarge"
    assert instance_for(StepSettings(resources=Resources(gpu=4))) == "ml.g4dn.12xlarge"
    assert instance_for(StepSettings(resources=Resources(cpu=200))) is None
    body = definition({"train_model": StepSettings(resources=Resources(cpu=8, memory="32Gi", gpu=1))})
    assert body["Steps"][1]["Arguments"]["ProcessingResources"]["ClusterConfig"]["InstanceType"] == "ml.g4dn.2xlarge"
    assert_valid_processing_jobs(body)


CONFIG = """\
stacks:
  aws:
    orchestrator: {{ type: sagemaker, region: us-east-1, role_arn: "{role}", image_uri: "{image}" }}
    artifact_store: {{ type: local, path: ./artifacts }}
steps:
  train_model:
{body}"""


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("    timeout: 500000\n    retries: 1\n", 7, "cannot honour timeout of step 'train_model': SageMaker stops a processing job after at most 777600 s"),
        ("    sagemaker: { instance_type: ml.m5.huge }\n", 7, "cannot honour sagemaker.instance_type of step 'train_model': 'ml.m5.huge' is not a SageMaker processing instance type"),
        ("    sagemaker: { instance_type: ml.m5.large }\n    resources: { gpu: 1 }\n", 8, "cannot honour resources.gpu of step 'train_model': ml.m5.large has no GPU"),
        ("    resources: { gpu: 1, gpu_type: nvidia-tesla-v100 }\n", 7, "cannot honour resources.gpu_type of step 'train_model': instances are chosen here for NVIDIA T4 GPUs only"),
        ("    resources: { disk: 20Ti }\n", 7, "cannot honour resources.disk of step 'train_model': a processing volume is 1 to 16384 GB"),
        ("    sagemaker: { instance_count: 0 }\n", 7, "cannot honour sagemaker.instance_count of step 'train_model': instance_count must be a whole number from 1 to 100"),
        ("    sagemaker: { volume: 3 }\n", 7, "cannot honour sagemaker.volume of step 'train_model': unknown option 'volume'"),
    ],
)
def test_what_sagemaker_cannot_honour_is_an_error_before_anything_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, line: int, message: str) -> None:
    from support import SUPPORT

    from flowyml.client import Client
    from flowyml.testing import load_pipeline, make_project

    folder = make_project(tmp_path / "project", {}, SUPPORT / "aws_spec_pipelines.py")
    (folder / "flowyml.yaml").write_text(CONFIG.format(role=ROLE, image=STEP_IMAGE, body=body))
    monkeypatch.chdir(folder)
    with pytest.raises(ConfigError, match="the sagemaker orchestrator of stack 'aws' cannot honour") as caught:
        load_pipeline(folder, "spec_pipeline").run(stack="aws")
    assert message in str(caught.value)
    assert caught.value.line == line and "flowyml.yaml" in str(caught.value)
    assert Client(folder).list_runs() == []
