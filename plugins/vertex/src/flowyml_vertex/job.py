"""Submitting a compiled spec as a Vertex AI PipelineJob and following it to the end."""

from __future__ import annotations

import json
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from flowyml.errors import FlowymlError

log = logging.getLogger("flowyml.vertex")

DONE = {"PIPELINE_STATE_SUCCEEDED", "PIPELINE_STATE_FAILED", "PIPELINE_STATE_CANCELLED"}


class PipelineJobError(FlowymlError):
    """The Vertex AI pipeline job could not be submitted, failed, or timed out."""


def state_name(state: Any) -> str:
    return getattr(state, "name", None) or str(state)


def submit(aiplatform: Any, spec: dict[str, Any], *, job_id: str, pipeline_root: str, labels: dict[str, str],
           service_account: str | None, network: str | None) -> Any:
    """Create and submit the PipelineJob; returns the SDK object."""
    with tempfile.TemporaryDirectory(prefix="flowyml-vertex-") as folder:
        template = Path(folder) / "pipeline.json"
        template.write_text(json.dumps(spec), encoding="utf-8")
        job = aiplatform.PipelineJob(
            display_name=spec["pipelineInfo"]["name"],
            template_path=str(template),
            job_id=job_id,
            pipeline_root=pipeline_root,
            labels=labels,
            enable_caching=False,
        )
    job.submit(service_account=service_account, network=network)
    return job


def task_states(job: Any) -> dict[str, str]:
    """Per-task states Vertex reports (empty until it has started tasks)."""
    detail = getattr(job.gca_resource, "job_detail", None)
    tasks = getattr(detail, "task_details", None) or []
    return {t.task_name: state_name(t.state) for t in tasks if t.task_name}


def follow(job: Any, *, timeout: float, poll_interval: float) -> tuple[str, str | None]:
    """Poll until the job ends; log job and task state changes. Returns (state, Vertex error message)."""
    started = time.monotonic()
    seen_state = ""
    seen_tasks: dict[str, str] = {}
    while True:
        state = state_name(job.state)  # each read fetches the job again
        if state != seen_state:
            log.info("Vertex pipeline job %s: %s (%.0fs)", job.resource_name, state, time.monotonic() - started)
            seen_state = state
        tasks = task_states(job)
        for task, task_state in sorted(tasks.items()):
            if seen_tasks.get(task) != task_state:
                log.info("  step %s: %s", task, task_state)
        seen_tasks = tasks
        if state in DONE:
            error = job.gca_resource.error.message if job.gca_resource.error and job.gca_resource.error.message else None
            return state, error
        if time.monotonic() - started > timeout:
            raise PipelineJobError(
                f"Vertex pipeline job {job.resource_name} is still {state} after {timeout:g}s",
                hint="raise the orchestrator's timeout option; the job keeps running in Vertex AI (see the Cloud console)",
            )
        time.sleep(poll_interval)
