"""The SageMaker Pipelines definition of a FlowyML run: one processing step per FlowyML step.

Each step runs the generic step runner (``flowyml step run --stack S
--snapshot URI --step NAME``) as the container entrypoint of a processing job
in the configured image, and depends on the steps whose outputs it reads.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flowyml.core.settings import StepSettings
from flowyml_sagemaker import step_settings
from flowyml_sagemaker.options import OrchestratorOptions

SCHEMA_VERSION = "2020-12-01"


def step_name(name: str) -> str:
    """SageMaker step names allow letters, digits, ``-`` and ``_`` (FlowyML step names are identifiers)."""
    cleaned = "".join(c if c.isalnum() or c in "-_" else "-" for c in name)
    return cleaned[:64]


def processing_arguments(
    options: OrchestratorOptions, command: Sequence[str], env: Mapping[str, str], settings: StepSettings | None = None
) -> dict[str, Any]:
    """The CreateProcessingJob request of one step (SageMaker names the job itself), with the step's settings applied."""
    chosen = step_settings.processing_overrides(
        settings or StepSettings(), instance_type=options.instance_type, instance_count=options.instance_count,
        volume_size_gb=options.volume_size_gb, max_seconds=options.max_step_seconds,
    )
    args: dict[str, Any] = {
        "ProcessingResources": {"ClusterConfig": chosen["ClusterConfig"]},
        "AppSpecification": {"ImageUri": options.image_uri, "ContainerEntrypoint": list(command)},
        "RoleArn": options.role_arn,
        "Environment": dict(env),
        "StoppingCondition": chosen["StoppingCondition"],
    }
    if options.subnets or options.security_group_ids:
        args["NetworkConfig"] = {"VpcConfig": {"Subnets": list(options.subnets), "SecurityGroupIds": list(options.security_group_ids)}}
    return args


def build_definition(
    options: OrchestratorOptions,
    steps: Sequence[str],
    upstream: Callable[[str], Sequence[str]],
    command: Callable[[str], Sequence[str]],
    env: Mapping[str, str],
    settings: Callable[[str], StepSettings] | None = None,
) -> dict[str, Any]:
    """The pipeline definition (a dict; ``json.dumps`` it for CreatePipeline)."""
    body = []
    for name in steps:
        chosen = settings(name) if settings is not None else StepSettings()
        step: dict[str, Any] = {
            "Name": step_name(name),
            "Type": "Processing",
            "Arguments": processing_arguments(options, command(name), env, chosen),
        }
        policies = step_settings.retry_policies(chosen)
        if policies:
            step["RetryPolicies"] = policies
        deps = [step_name(u) for u in upstream(name)]
        if deps:
            step["DependsOn"] = deps
        body.append(step)
    return {"Version": SCHEMA_VERSION, "Metadata": {}, "Parameters": [], "Steps": body}


def definition_json(definition: Mapping[str, Any]) -> str:
    return json.dumps(definition, sort_keys=True)
