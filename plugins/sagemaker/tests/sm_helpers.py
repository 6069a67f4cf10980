"""Helpers of the flowyml-sagemaker tests (moto server for SageMaker and S3; the s3 store is a test requirement)."""

from __future__ import annotations

from typing import Any

ROLE = "arn:aws:iam::123456789012:role/flowyml-sagemaker"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/flowyml-serve:1"
STEP_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/flowyml-steps:1"
ROUTE = "{run_id}/datasets/{step_name}"


def registry_config(**extra: Any) -> dict[str, Any]:
    return {"type": "sagemaker_model_registry", "image_uri": IMAGE, "max_attempts": 1, **extra}


def deployer_config(**extra: Any) -> dict[str, Any]:
    return {"type": "sagemaker_endpoint", "role_arn": ROLE, "poll_interval": 0.05, "timeout_seconds": 30, "max_attempts": 1, **extra}


def s3_store(bucket: str) -> dict[str, Any]:
    return {"type": "s3", "bucket": bucket, "prefix": "ml", "max_attempts": 2, "retry_backoff": 0.05}


def aws_staging(bucket: str, model_rule: dict[str, Any], orchestrator: dict[str, Any] | None = None) -> dict[str, Any]:
    """The spec's aws-staging stack shape: s3 store, SageMaker registry and endpoint."""
    return {
        "orchestrator": orchestrator or {"type": "local", "max_parallel_steps": 1},
        "artifact_store": s3_store(bucket),
        "model_registry": registry_config(),
        "model_deployer": deployer_config(),
        "artifact_routing": {
            "Model": {"store": "s3", "path": ROUTE, **model_rule},
            "Dataset": {"store": "s3", "path": ROUTE},
        },
    }


def sm_client(endpoint: str) -> Any:
    from standins.aws import boto3_client

    return boto3_client("sagemaker", endpoint)

