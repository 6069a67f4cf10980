"""Per-step settings on SageMaker Pipelines: each step's processing job, retry policies and refusals.

Every value is checked against botocore's own SageMaker service model
(``ProcessingInstanceType``, ``ProcessingInstanceCount``,
``ProcessingVolumeSizeInGB``, ``ProcessingMaxRuntimeInSeconds``), so what the
definition holds is what CreateProcessingJob accepts.

* instance type: ``sagemaker: {instance_type: ...}``; else, when the step asks
  for cpu, memory or GPUs, the smallest of ml.m5 (4 GiB per vCPU), then ml.r5
  (8 GiB per vCPU) — or ml.g4dn (NVIDIA T4) for GPUs — that has them; else the
  orchestrator's ``instance_type``. Other GPU models need an explicit instance type.
* instance count: ``sagemaker: {instance_count: N}`` (default: the orchestrator's).
* ``resources.disk`` → ``VolumeSizeInGB`` (GiB, rounded up).
* ``timeout`` → ``StoppingCondition.MaxRuntimeInSeconds``: every in-container
  attempt's timeout plus the delays between them plus :data:`LOAD_MARGIN`
  seconds to load inputs and store outputs; the step runner enforces the
  timeout of each attempt inside the container.
* ``retries`` → run in the container (SageMaker's retry policies do not retry
  a step whose code failed), and the step's ``RetryPolicies`` retry
  SageMaker's own faults (``SageMaker.JOB_INTERNAL_ERROR``,
  ``SageMaker.CAPACITY_ERROR``) as many times, ``retry_delay`` apart.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from typing import Any

from flowyml.core.settings import StepSettings
from flowyml.plugins.component import SettingProblem

SECTION = ("sagemaker",)
SECTION_KEYS = ("instance_type", "instance_count")
#: Seconds a step's job gets beyond its attempts' timeouts (start the container, load inputs, store outputs).
LOAD_MARGIN = 600
#: Job faults the step's RetryPolicies retry (the step's own errors are retried in its container).
JOB_FAULTS = ["SageMaker.JOB_INTERNAL_ERROR", "SageMaker.CAPACITY_ERROR"]
# (instance type, vCPUs, memory GiB, T4 GPUs), smallest first per family.
_M5 = [("ml.m5.large", 2, 8), ("ml.m5.xlarge", 4, 16), ("ml.m5.2xlarge", 8, 32), ("ml.m5.4xlarge", 16, 64),
       ("ml.m5.12xlarge", 48, 192), ("ml.m5.24xlarge", 96, 384)]
_R5 = [("ml.r5.large", 2, 16), ("ml.r5.xlarge", 4, 32), ("ml.r5.2xlarge", 8, 64), ("ml.r5.4xlarge", 16, 128),
       ("ml.r5.8xlarge", 32, 256), ("ml.r5.12xlarge", 48, 384), ("ml.r5.16xlarge", 64, 512), ("ml.r5.24xlarge", 96, 768)]
_G4DN = [("ml.g4dn.xlarge", 4, 16, 1), ("ml.g4dn.2xlarge", 8, 32, 1), ("ml.g4dn.4xlarge", 16, 64, 1),
         ("ml.g4dn.8xlarge", 32, 128, 1), ("ml.g4dn.16xlarge", 64, 256, 1), ("ml.g4dn.12xlarge", 48, 192, 4)]


@functools.lru_cache(maxsize=1)
def _model() -> Any:
    from botocore.session import get_session

    return get_session().get_service_model("sagemaker")


def instance_types() -> list[str]:
    """The processing instance types botocore's SageMaker model lists."""
    return list(_model().shape_for("ProcessingInstanceType").enum)


def limits(shape: str) -> tuple[int, int]:
    meta = _model().shape_for(shape).metadata
    return int(meta["min"]), int(meta["max"])


def _gib(value: int | None) -> float:
    return (value or 0) / 2**30


def instance_for(settings: StepSettings) -> str | None:
    """The smallest listed instance with the step's cpu, memory and GPUs (None: none of the table has them)."""
    res = settings.resources
    cpu, memory, gpus = res.cpu or 0, _gib(res.memory_bytes), res.gpu or 0
    known = set(instance_types())
    candidates = [(name, c, m) for name, c, m, g in _G4DN if g >= gpus] if gpus else _M5 + _R5
    for name, vcpus, gib in candidates:
        if name in known and vcpus >= cpu and gib >= memory:
            return name
    return None


def chosen_instance(settings: StepSettings, default: str) -> str:
    section = settings.section(*SECTION)
    if section.get("instance_type"):
        return str(section["instance_type"])
    res = settings.resources
    if res.cpu is None and res.memory is None and not res.gpu:
        return default
    return instance_for(settings) or default


def max_runtime(settings: StepSettings, default: int) -> int:
    if settings.timeout is None:
        return default
    return math.ceil(settings.attempts * settings.timeout + settings.retries * settings.retry_delay) + LOAD_MARGIN


def check(step: str, settings: StepSettings, default_instance: str, default_runtime: int) -> Iterator[SettingProblem]:
    """What the sagemaker orchestrator cannot honour in one step's settings."""
    if settings.is_default():
        return  # nothing asked: the orchestrator's options, already checked
    section = settings.section(*SECTION)
    for key in section:
        if key not in SECTION_KEYS:
            yield SettingProblem(f"sagemaker.{key}", f"unknown option {key!r}", f"the sagemaker: section of a step takes {', '.join(SECTION_KEYS)}")
    known = instance_types()
    instance = section.get("instance_type")
    if instance is not None and instance not in known:
        close = [t for t in known if isinstance(instance, str) and t.startswith(instance.rsplit(".", 1)[0] + ".")]
        yield SettingProblem(
            "sagemaker.instance_type", f"{instance!r} is not a SageMaker processing instance type",
            f"use one of {', '.join(close or known[:12])}{'' if close else ', ...'}",
        )
    count = section.get("instance_count")
    low, high = limits("ProcessingInstanceCount")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or not low <= count <= high):
        yield SettingProblem("sagemaker.instance_count", f"instance_count must be a whole number from {low} to {high}, got {count!r}")
    res = settings.resources
    if res.gpu_type and instance is None and res.gpu_type.upper().replace("-", "_").removeprefix("NVIDIA_TESLA_") not in ("T4",):
        yield SettingProblem(
            "resources.gpu_type", f"instances are chosen here for NVIDIA T4 GPUs only, not {res.gpu_type!r}",
            "set sagemaker.instance_type for this step (e.g. ml.p3.2xlarge for a V100)",
        )
    elif (res.cpu is not None or res.memory is not None or res.gpu) and instance is None and instance_for(settings) is None:
        yield SettingProblem("resources", f"no ml.m5, ml.r5 or ml.g4dn instance has {res.given()}", "set sagemaker.instance_type for this step")
    if res.gpu and isinstance(instance, str) and instance in known and not instance.startswith(("ml.g", "ml.p")):
        yield SettingProblem("resources.gpu", f"{instance} has no GPU", "use a GPU instance type (ml.g4dn.*, ml.g5.*, ml.p3.*)")
    if res.disk_bytes is not None:
        low, high = limits("ProcessingVolumeSizeInGB")
        size = math.ceil(_gib(res.disk_bytes))
        if not low <= size <= high:
            yield SettingProblem("resources.disk", f"a processing volume is {low} to {high} GB, {res.disk} is {size} GB")
    low, high = limits("ProcessingMaxRuntimeInSeconds")
    runtime = max_runtime(settings, default_runtime)
    if settings.timeout is not None and runtime > high:
        yield SettingProblem(
            "timeout",
            f"SageMaker stops a processing job after at most {high} s; this step's attempts need {runtime} s "
            f"({settings.attempts} x {settings.timeout:g} s, the delays, and {LOAD_MARGIN} s to load and store)",
            "lower timeout or retries for this stack",
        )


def processing_overrides(settings: StepSettings, *, instance_type: str, instance_count: int, volume_size_gb: int, max_seconds: int) -> dict[str, Any]:
    """The step's ClusterConfig and StoppingCondition, its settings over the orchestrator's options."""
    section = settings.section(*SECTION)
    volume = math.ceil(_gib(settings.resources.disk_bytes)) if settings.resources.disk_bytes is not None else volume_size_gb
    return {
        "ClusterConfig": {
            "InstanceType": chosen_instance(settings, instance_type),
            "InstanceCount": int(section.get("instance_count") or instance_count),
            "VolumeSizeInGB": volume,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime(settings, max_seconds)},
    }


def retry_policies(settings: StepSettings) -> list[dict[str, Any]]:
    """The step's RetryPolicies in the pipeline definition (none without retries)."""
    if not settings.retries:
        return []
    return [{"ExceptionType": list(JOB_FAULTS), "IntervalSeconds": max(1, math.ceil(settings.retry_delay)), "BackoffRate": 1.0,
             "MaxAttempts": settings.retries}]
