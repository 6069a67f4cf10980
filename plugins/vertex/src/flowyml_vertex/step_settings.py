"""Per-step settings on Vertex AI Pipelines: what the compiled spec holds for each step, and what is refused.

A step is a KFP container task. Its ``resources`` become the container's
resource spec (``resourceCpuLimit``, ``resourceMemoryLimit``, ``accelerator``
with ``resourceType``/``resourceCount``): Vertex then picks the machine.
``retries`` and ``retry_delay`` become the task's KFP ``retryPolicy``
(``maxRetryCount``, ``backoffDuration``, ``backoffFactor`` 1: a constant delay).

A step that needs what a container task cannot say — an exact machine type
(``vertex: {machine_type: ...}``), a boot disk (``resources.disk``,
``vertex: {boot_disk_type: ...}``) or a ``timeout`` — is compiled as a Vertex
AI CustomJob task instead (Google Cloud Pipeline Components' custom-job
launcher, as ``create_custom_training_job_from_component`` makes): the job's
``workerPoolSpecs[0]`` holds ``machineSpec`` (machine type, accelerator type
and count), ``diskSpec`` (boot disk type and size) and the step's container,
and ``scheduling.timeout`` the timeout. Without a machine type, the machine is
chosen from cpu and memory: the smallest ``n1-standard-N`` (3.75 GB per vCPU),
else the smallest ``n1-highmem-N`` (6.5 GB per vCPU), N in 1, 2, 4, ..., 96.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

from flowyml.core.settings import StepSettings
from flowyml.plugins.component import SettingProblem

#: The ``vertex:`` section of a step.
SECTION = ("vertex", "vertex_ai")
SECTION_KEYS = ("machine_type", "boot_disk_type")
BOOT_DISK_TYPES = ("pd-ssd", "pd-standard", "hyperdisk-balanced")
#: The image and module of Google Cloud Pipeline Components' custom-job launcher (what Vertex runs to start a CustomJob task).
LAUNCHER_IMAGE = "gcr.io/ml-pipeline/google-cloud-pipeline-components:2.22.0"
LAUNCHER = ["python3", "-u", "-m", "google_cloud_pipeline_components.container.v1.custom_job.launcher"]
_SIZES = (1, 2, 4, 8, 16, 32, 64, 96)
_FAMILIES = (("n1-standard", 3.75), ("n1-highmem", 6.5))
#: Accelerators a custom job's machine is chosen for here (others need an explicit machine type: A100 needs a2, L4 g2, ...).
_N1_GPUS = ("NVIDIA_TESLA_T4", "NVIDIA_TESLA_V100", "NVIDIA_TESLA_P100", "NVIDIA_TESLA_P4", "NVIDIA_TESLA_K80")


def accelerator_name(gpu_type: str) -> str:
    """Vertex's name of a GPU model: ``nvidia-tesla-t4`` and ``NVIDIA_TESLA_T4`` are both ``NVIDIA_TESLA_T4``."""
    return gpu_type.strip().upper().replace("-", "_")


def known_accelerators() -> list[str]:
    """The accelerator types Vertex AI knows (the AcceleratorType enum of the installed aiplatform client)."""
    from google.cloud.aiplatform_v1.types import accelerator_type

    return [m.name for m in accelerator_type.AcceleratorType if m.name != "ACCELERATOR_TYPE_UNSPECIFIED"]


def uses_custom_job(settings: StepSettings) -> bool:
    section = settings.section(*SECTION)
    return settings.timeout is not None or settings.resources.disk is not None or any(k in section for k in SECTION_KEYS)


def machine_for(cpu: float | None, memory_bytes: int | None) -> str | None:
    """The smallest n1 machine with ``cpu`` vCPUs and ``memory_bytes`` of memory (None when no n1 machine has them)."""
    if cpu is None:
        cpu = 4 if memory_bytes is None else 1  # nothing asked: a 4-vCPU machine, as Vertex's own default
    memory_gb = (memory_bytes or 0) / 10**9
    for family, per_cpu in _FAMILIES:
        for size in _SIZES:
            if family == "n1-highmem" and size == 1:
                continue
            if size >= cpu and size * per_cpu >= memory_gb:
                return f"{family}-{size}"
    return None


def check(step: str, settings: StepSettings) -> Iterator[SettingProblem]:
    """What the vertex_ai orchestrator cannot honour in one step's settings."""
    section = settings.section(*SECTION)
    for key, value in section.items():
        if key not in SECTION_KEYS:
            yield SettingProblem(f"vertex.{key}", f"unknown option {key!r}", f"the vertex: section of a step takes {', '.join(SECTION_KEYS)}")
        elif not isinstance(value, str) or not value:
            yield SettingProblem(f"vertex.{key}", f"{key} must be a name, e.g. n1-standard-8, got {value!r}")
    if section.get("boot_disk_type") not in (None, *BOOT_DISK_TYPES):
        yield SettingProblem("vertex.boot_disk_type", f"unknown boot disk type {section['boot_disk_type']!r}", f"use one of {', '.join(BOOT_DISK_TYPES)}")
    resources = settings.resources
    if resources.gpu and not resources.gpu_type:
        yield SettingProblem("resources.gpu", "Vertex AI needs the GPU model", "set resources.gpu_type, e.g. nvidia-tesla-t4")
    if resources.gpu_type:
        known = known_accelerators()
        name = accelerator_name(resources.gpu_type)
        if name not in known:
            yield SettingProblem("resources.gpu_type", f"Vertex AI knows no accelerator {resources.gpu_type!r}", f"use one of {', '.join(known)}")
        elif uses_custom_job(settings) and "machine_type" not in section and name not in _N1_GPUS:
            yield SettingProblem(
                "resources.gpu_type",
                f"{name} does not attach to the n1 machines chosen from cpu and memory",
                "set vertex.machine_type for this step (e.g. a2-highgpu-1g for NVIDIA_TESLA_A100, g2-standard-8 for NVIDIA_L4)",
            )
    if uses_custom_job(settings) and "machine_type" not in section and machine_for(resources.cpu, resources.memory_bytes) is None:
        yield SettingProblem(
            "resources", f"no n1 machine has cpu={resources.cpu} and memory={resources.memory}", "set vertex.machine_type for this step"
        )


def container_resources(settings: StepSettings, cpu_limit: str | None, memory_limit: str | None) -> dict[str, Any]:
    """The container's KFP resource spec: the step's resources over the orchestrator's defaults."""
    res = settings.resources
    out: dict[str, Any] = {}
    cpu = _number(res.cpu) if res.cpu is not None else cpu_limit
    memory = f"{math.ceil(res.memory_bytes / 10**9)}G" if res.memory_bytes is not None else memory_limit
    if cpu:
        out["resourceCpuLimit"] = str(cpu)
    if memory:
        out["resourceMemoryLimit"] = str(memory)
    if res.gpu:
        name = accelerator_name(res.gpu_type or "")
        out["accelerator"] = {"resourceType": name, "resourceCount": str(res.gpu), "type": name, "count": str(res.gpu)}
    return out


def retry_policy(settings: StepSettings, default_timeout: float) -> dict[str, Any] | None:
    """The task's KFP retryPolicy (None without retries); the retries may go on as long as every attempt may take."""
    if not settings.retries:
        return None
    per_attempt = settings.timeout if settings.timeout is not None else default_timeout
    window = max(3600, math.ceil(settings.attempts * per_attempt + settings.retries * settings.retry_delay))
    return {
        "maxRetryCount": settings.retries,
        "backoffDuration": f"{_number(settings.retry_delay)}s",
        "backoffFactor": 1.0,
        "backoffMaxDuration": f"{window}s",
    }


def custom_job_container(settings: StepSettings, *, display_name: str, image: str, command: list[str], env: list[dict[str, str]],
                         service_account: str | None, network: str | None) -> dict[str, Any]:
    """The executor of a step compiled as a CustomJob task: the launcher, with the job's payload."""
    res = settings.resources
    section = settings.section(*SECTION)
    machine: dict[str, Any] = {"machineType": section.get("machine_type") or machine_for(res.cpu, res.memory_bytes)}
    if res.gpu:
        machine["acceleratorType"] = accelerator_name(res.gpu_type or "")
        machine["acceleratorCount"] = res.gpu
    pool: dict[str, Any] = {
        "machineSpec": machine,
        "replicaCount": "1",
        "containerSpec": {"imageUri": image, "command": command[:1], "args": command[1:], "env": env},
    }
    disk: dict[str, Any] = {}
    if res.disk_bytes is not None:
        disk["bootDiskSizeGb"] = math.ceil(res.disk_bytes / 2**30)
    if section.get("boot_disk_type"):
        disk["bootDiskType"] = section["boot_disk_type"]
    if disk:
        pool["diskSpec"] = {"bootDiskType": "pd-ssd", **disk}
    job_spec: dict[str, Any] = {"workerPoolSpecs": [pool]}
    if settings.timeout is not None:
        job_spec["scheduling"] = {"timeout": f"{_number(settings.timeout)}s"}
    if service_account:
        job_spec["serviceAccount"] = service_account
    if network:
        job_spec["network"] = network
    payload = {"displayName": display_name, "jobSpec": job_spec}
    return {
        "image": LAUNCHER_IMAGE,
        "command": list(LAUNCHER),
        "args": [
            "--type", "CustomJob",
            "--payload", json.dumps(payload, sort_keys=True),
            "--project", "{{$.pipeline_google_cloud_project_id}}",
            "--location", "{{$.pipeline_google_cloud_location}}",
            "--gcp_resources", "{{$.outputs.parameters['gcp_resources'].output_file}}",
        ],
    }


def _number(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))
