"""Lazy loading: boto3/botocore are imported only when a stack's SageMaker component is used."""

from __future__ import annotations

from pathlib import Path

from flowyml.testing import imported_modules

AWS = ("boto3", "botocore", "s3fs", "aiobotocore")
ROLE = "arn:aws:iam::123456789012:role/r"
STACKS = {
    "local": {
        "orchestrator": {"type": "local"},
        "artifact_store": {"type": "local", "path": "./artifacts"},
        "model_registry": {"type": "local"},
        "model_deployer": {"type": "local"},
        "artifact_routing": {"Model": {"register": True}},
    },
    "aws-staging": {
        "orchestrator": {"type": "sagemaker", "region": "us-east-1", "role_arn": ROLE, "image_uri": "img"},
        "artifact_store": {"type": "s3", "bucket": "my-s3-bucket"},
        "model_registry": {"type": "sagemaker_model_registry"},
        "model_deployer": {"type": "sagemaker_endpoint", "role_arn": ROLE},
        "artifact_routing": {"Model": {"store": "s3", "register": True}, "Dataset": {"store": "s3"}},
    },
}


def loaded_modules(project: Path, stack: str, *, run_pipeline: bool) -> set[str]:
    return imported_modules(project, STACKS, stack, run_pipeline=run_pipeline, prefixes=[*AWS, "flowyml_sagemaker", "flowyml_s3"])


def test_a_local_run_with_a_model_imports_no_aws_module(tmp_path: Path) -> None:
    assert loaded_modules(tmp_path, "local", run_pipeline=True) == set()


def test_building_the_aws_staging_stack_imports_the_plugins_but_no_aws_sdk(tmp_path: Path) -> None:
    loaded = loaded_modules(tmp_path, "aws-staging", run_pipeline=False)
    assert {"flowyml_sagemaker.orchestrator", "flowyml_sagemaker.registry", "flowyml_sagemaker.deployer"} <= loaded
    assert not [m for m in loaded if m.split(".")[0] in AWS], loaded
