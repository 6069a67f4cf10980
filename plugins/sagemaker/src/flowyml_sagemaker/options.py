"""Options of the three SageMaker components, as users write them in flowyml.yaml.

Checks a type cannot express are :func:`problems`, which the components
return from ``check_options``: the core reports the first with its YAML line.
"""

from __future__ import annotations

import re
from typing import Any

import attrs

from flowyml.plugins.component import OptionProblem

ROLE_ARN = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/\S+$")


@attrs.frozen(kw_only=True)
class ConnectionOptions:
    """How to reach SageMaker. Credentials come from the standard AWS chain, or ``profile``."""

    #: AWS region (default: the chain's, e.g. AWS_DEFAULT_REGION).
    region: str | None = None
    #: A custom endpoint (a VPC endpoint, or a local stand-in). Default: AWS, or AWS_ENDPOINT_URL.
    endpoint_url: str | None = None
    #: A named profile from ~/.aws/config.
    profile: str | None = None
    #: botocore attempts per call (throttling and 5xx are retried); default: the chain's setting.
    max_attempts: int | None = None


@attrs.frozen(kw_only=True)
class RegistryOptions(ConnectionOptions):
    """``sagemaker_model_registry``: one Model Package Group per model, one versioned package per version."""

    #: Inference image of every package (overridden by ``framework_images`` and a model's serving_config image_uri).
    image_uri: str | None = None
    #: Inference image per framework, e.g. ``{sklearn: 123.dkr.ecr.us-east-1.amazonaws.com/serve:1}``.
    framework_images: dict[str, str] = attrs.field(factory=dict)
    #: Prepended to every Model Package Group name (e.g. a team or project).
    group_prefix: str = ""
    #: Upload the model's metrics as a JSON report beside the artifact and link it as ModelMetrics.
    metrics_report: bool = True
    #: Content types the packages accept / answer with.
    content_types: list[str] = attrs.field(factory=lambda: ["application/json"])
    response_types: list[str] = attrs.field(factory=lambda: ["application/json"])
    #: Instance types the packages may be deployed on (empty: not restricted in the package).
    inference_instance_types: list[str] = attrs.field(factory=list)
    #: Tags on created Model Package Groups.
    tags: dict[str, str] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class DeployerOptions(ConnectionOptions):
    """``sagemaker_endpoint``: real-time endpoints serving registered model packages."""

    #: IAM role SageMaker assumes to pull the image and the model data. Required to deploy.
    role_arn: str | None = None
    instance_type: str = "ml.m5.large"
    instance_count: int = 1
    #: Name of the production variant.
    variant_name: str = "AllTraffic"
    #: Seconds to wait for an endpoint to be InService.
    timeout_seconds: float = 1800.0
    #: Seconds between status checks.
    poll_interval: float = 15.0
    #: Environment variables of the serving container.
    environment: dict[str, str] = attrs.field(factory=dict)
    #: Tags on created models, endpoint configs and endpoints.
    tags: dict[str, str] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class OrchestratorOptions(ConnectionOptions):
    """``sagemaker``: each run becomes a SageMaker Pipelines execution, one processing step per FlowyML step."""

    #: IAM role of the pipeline and its step jobs. Required to run.
    role_arn: str | None = None
    #: The step container image: your project (flowyml.yaml + pipeline code) and flowyml installed. Required to run.
    image_uri: str | None = None
    #: Pipeline name in SageMaker (default: flowyml-<pipeline name>).
    pipeline_name: str | None = None
    instance_type: str = "ml.m5.large"
    instance_count: int = 1
    volume_size_gb: int = 30
    #: Longest a single step may run, in seconds.
    max_step_seconds: int = 86400
    #: Longest the whole run may take before it is stopped, in seconds.
    timeout_seconds: float = 86400.0
    #: Seconds between status checks.
    poll_interval: float = 15.0
    #: Extra environment variables of the step containers.
    environment: dict[str, str] = attrs.field(factory=dict)
    #: VPC settings of the step jobs.
    subnets: list[str] = attrs.field(factory=list)
    security_group_ids: list[str] = attrs.field(factory=list)
    #: Tags on the pipeline.
    tags: dict[str, str] = attrs.field(factory=dict)
    #: Parallel steps at most (SageMaker's ParallelismConfiguration); 0 leaves SageMaker's default.
    max_parallel_steps: int = 0


def problems(options: Any) -> list[OptionProblem]:
    """Every problem with ``options`` (the options of any of the three components)."""
    found: list[OptionProblem] = []
    role = getattr(options, "role_arn", None)
    if role and not ROLE_ARN.match(role):
        found.append(OptionProblem("role_arn", f"{role!r} is not an IAM role ARN", "use arn:aws:iam::ACCOUNT_ID:role/NAME"))
    for field in ("instance_count", "timeout_seconds", "poll_interval", "volume_size_gb", "max_step_seconds"):
        value = getattr(options, field, 1)
        if value <= 0:
            found.append(OptionProblem(field, f"{field} must be positive, got {value}", f"set {field} above 0"))
    if getattr(options, "max_attempts", None) is not None and options.max_attempts < 1:
        found.append(OptionProblem("max_attempts", f"max_attempts must be at least 1, got {options.max_attempts}", "use 1 for no retries"))
    return found
