"""Lazy loading: boto3/botocore are imported only when a stack's SageMaker component is used."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

AWS = ("boto3", "botocore", "s3fs", "aiobotocore")
REPORT = "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore', 's3fs', 'aiobotocore', 'flowyml_sagemaker', 'flowyml_s3'))))"

LOCAL_RUN = f"""
import json, sys
from flowyml import Model, pipeline, step

@step
def train() -> Model:
    return Model({{"w": 1}}, name="m", version="1")

@pipeline
def tiny():
    train()

run = tiny.run(stack="local")
assert run.success, run.error
{REPORT}
"""

BUILD_SAGEMAKER_STACK = f"""
import json, sys
from flowyml.runner.engine import prepare_stack
stack = prepare_stack("aws-staging")
for component in stack._components.values():
    component.describe()
{REPORT}
"""


def run_python(code: str, cwd: Path) -> list[str]:
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def write_config(project: Path) -> None:
    role = "arn:aws:iam::123456789012:role/r"
    stacks = {
        "local": {
            "orchestrator": {"type": "local"},
            "artifact_store": {"type": "local", "path": "./artifacts"},
            "model_registry": {"type": "local"},
            "model_deployer": {"type": "local"},
            "artifact_routing": {"Model": {"register": True}},
        },
        "aws-staging": {
            "orchestrator": {"type": "sagemaker", "region": "us-east-1", "role_arn": role, "image_uri": "img"},
            "artifact_store": {"type": "s3", "bucket": "my-s3-bucket"},
            "model_registry": {"type": "sagemaker_model_registry"},
            "model_deployer": {"type": "sagemaker_endpoint", "role_arn": role},
            "artifact_routing": {"Model": {"store": "s3", "register": True}, "Dataset": {"store": "s3"}},
        },
    }
    (project / "flowyml.yaml").write_text(yaml.safe_dump({"stacks": stacks, "active_stack": "local"}))


def test_a_local_run_with_a_model_imports_no_aws_module(tmp_path: Path) -> None:
    write_config(tmp_path)
    assert run_python(LOCAL_RUN, tmp_path) == []


def test_building_the_aws_staging_stack_imports_the_plugins_but_no_aws_sdk(tmp_path: Path) -> None:
    write_config(tmp_path)
    loaded = run_python(BUILD_SAGEMAKER_STACK, tmp_path)
    assert {"flowyml_sagemaker.orchestrator", "flowyml_sagemaker.registry", "flowyml_sagemaker.deployer"} <= set(loaded)
    assert not [m for m in loaded if m.split(".")[0] in AWS], loaded
