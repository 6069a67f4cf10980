"""``vertex_ai``: run a pipeline as a Vertex AI Pipelines job, one task per step.

The run snapshot goes to the stack's artifact store (``run.prepare_remote()``),
the graph is compiled to a KFP IR spec whose tasks run the generic step
runner in ``image``, the job is submitted and followed, and the step records
the tasks wrote are read back (``run.collect_remote_results()``) so artifacts,
metrics and models are recorded, registered and deployed as for a local run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import flowyml
from flowyml.core.settings import StepSettings
from flowyml.plugins.component import Component, SettingProblem
from flowyml.plugins.types import RunHandle
from flowyml_vertex.errors import reported
from flowyml_vertex.naming import MANAGED, label_value
from flowyml_vertex.options import VertexOrchestratorOptions


class VertexOrchestrator(Component):
    kind = "orchestrator"
    Options = VertexOrchestratorOptions
    options: VertexOrchestratorOptions

    def describe(self) -> str:
        where = "/".join(filter(None, [self.options.project, self.options.location])) or "the environment's project"
        return f"Vertex AI Pipelines ({where}), image {self.options.image or '(not set)'}"

    def check_step_settings(self, step: str, settings: StepSettings) -> Iterable[SettingProblem]:
        """Machine, accelerator, disk, retries and timeout go into the compiled spec; what Vertex cannot take is refused."""
        from flowyml_vertex.step_settings import check

        return list(check(step, settings))

    @property
    def where(self) -> str:
        return f"vertex_ai orchestrator of stack {self.context.stack_name!r}"

    def _image(self) -> str:
        if not self.options.image:
            raise self.context.config_error(
                "image",
                "the vertex_ai orchestrator needs a container image to run the steps in",
                hint="build an image with your project, flowyml and its plugins installed (see docs/backends/vertex.md) and set image: REGION-docker.pkg.dev/PROJECT/REPO/IMAGE:TAG",
            )
        return self.options.image

    def _pipeline_root(self, run: RunHandle) -> str:
        if self.options.pipeline_root:
            return self.options.pipeline_root
        root = run.artifact_uri("vertex-pipelines")
        if not root.startswith("gs://"):
            raise self.context.config_error(
                "pipeline_root",
                f"Vertex AI Pipelines needs a gs:// pipeline root; the stack's artifact store is at {root}",
                hint="use a gcs artifact store, or set pipeline_root: gs://BUCKET/PATH",
            )
        return root

    @flowyml.hookimpl
    def flowyml_orchestrator_run(self, run: RunHandle) -> bool:
        from flowyml_vertex.compiler import spec_for_run
        from flowyml_vertex.job import PipelineJobError, follow, submit
        from flowyml_vertex.sdk import aiplatform_for

        image = self._image()
        pipeline_root = self._pipeline_root(run)
        run.prepare_remote()  # also answers what it can from the cache: those steps are not submitted
        if not run.steps_to_run:
            run.collect_remote_results()  # every step is cached: no pipeline job at all
            return True
        spec = spec_for_run(
            run, image=image, extra_env=self.options.environment, cpu_limit=self.options.cpu_limit, memory_limit=self.options.memory_limit,
            service_account=self.options.service_account, network=self.options.network, default_timeout=self.options.timeout,
        )
        job_id = re.sub(r"[^a-z0-9-]+", "-", f"{spec['pipelineInfo']['name'][:80]}-{run.run_id}".lower()).strip("-")
        labels = {
            MANAGED[0]: MANAGED[1],
            "flowyml_run_id": label_value(run.run_id),
            "flowyml_pipeline": label_value(run.pipeline_name),
            **{label_value(k): label_value(v) for k, v in self.options.labels.items()},
        }
        with reported(PipelineJobError, f"submitting pipeline {run.pipeline_name!r} to Vertex AI Pipelines", self.where):
            aiplatform = aiplatform_for(self.options)
            job = submit(
                aiplatform, spec, job_id=job_id, pipeline_root=pipeline_root, labels=labels,
                service_account=self.options.service_account, network=self.options.network,
            )
        if not self.options.synchronous:
            for name in run.steps_to_run:
                run.skip_step(name, f"submitted as Vertex pipeline job {job.resource_name}; not waited for (synchronous: false)")
            return True
        with reported(PipelineJobError, f"following Vertex pipeline job {job_id}", self.where):
            state, error = follow(job, timeout=self.options.timeout, poll_interval=self.options.poll_interval)
        run.collect_remote_results()
        if state != "PIPELINE_STATE_SUCCEEDED":
            reason = f"Vertex pipeline job {job.resource_name} ended {state.removeprefix('PIPELINE_STATE_')}: {error or 'no reason given'}"
            mark_unfinished(run, reason)
        return True


def mark_unfinished(run: RunHandle, reason: str) -> None:
    """After a failed job: steps Vertex should have run but left no record fail with Vertex's reason; their dependents are skipped."""
    for name in run.steps:
        result = run.result(name)
        if result is not None and result.status != "skipped":
            continue
        unfinished = [u for u in run.upstream(name) if (up := run.result(u)) is None or up.status not in ("completed", "cached")]
        if unfinished:
            run.skip_step(name, f"upstream step {unfinished[0]!r} did not complete ({reason})")
        else:
            run.fail_step(name, reason)
