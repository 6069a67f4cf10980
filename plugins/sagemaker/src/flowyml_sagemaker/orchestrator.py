"""``sagemaker``: a FlowyML run as a SageMaker Pipelines execution.

The orchestrator writes the run snapshot to the stack's artifact store,
creates or updates a pipeline whose steps run ``flowyml step run`` in the
configured image, starts an execution, follows it (each step's status in the
log) until it ends or times out, and then collects the step records the
containers wrote, so the run is recorded as if it had run locally.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from typing import Any

import flowyml
from flowyml.core.settings import StepSettings
from flowyml.errors import FlowymlError, PipelineError
from flowyml.plugins.component import SettingProblem
from flowyml.plugins.types import RunHandle
from flowyml_sagemaker.component import SageMakerComponent
from flowyml_sagemaker.options import OrchestratorOptions

log = logging.getLogger("flowyml.sagemaker")
ENDED = {"Succeeded", "Failed", "Stopped"}


class SageMakerOrchestrator(SageMakerComponent):
    kind = "orchestrator"
    Options = OrchestratorOptions
    error_class = PipelineError
    label = "SageMaker orchestrator"

    def __init__(self, options: OrchestratorOptions, context: Any) -> None:
        super().__init__(options, context)
        self._step_listing_warned = False

    def describe(self) -> str:
        return f"SageMaker Pipelines ({self.options.instance_type}, image {self.options.image_uri or 'not set'})"

    def check_step_settings(self, step: str, settings: StepSettings) -> Iterable[SettingProblem]:
        """Instance type and count, volume, max runtime and retry policies go into the definition; botocore's model decides what is valid."""
        from flowyml_sagemaker.step_settings import check

        return list(check(step, settings, self.options.instance_type, self.options.max_step_seconds))

    def _require(self) -> None:
        for option, what in (("role_arn", "the IAM role the pipeline and its step jobs run as"), ("image_uri", "the step container image")):
            if not getattr(self.options, option):
                raise self.context.config_error(
                    option,
                    f"the sagemaker orchestrator needs {option} ({what})",
                    hint="see docs/backends/sagemaker.md for the role's policy and how to build the image",
                )

    def pipeline_name(self, run: RunHandle) -> str:
        from flowyml_sagemaker.aws import resource_name

        return resource_name(self.options.pipeline_name or f"flowyml-{run.pipeline_name}", limit=256)

    def definition(self, run: RunHandle) -> dict[str, Any]:
        """The pipeline definition of ``run`` (call after ``run.prepare_remote()``)."""
        from flowyml_sagemaker.definition import build_definition

        env = {**run.step_env(), **self.options.environment}
        steps = list(run.steps_to_run)  # a step answered from the cache is recorded already: no processing job

        def upstream(name: str) -> list[str]:
            return [u for u in run.upstream(name) if u in steps]

        return build_definition(self.options, steps, upstream, run.step_command, env, run.step_settings)

    # -- submit / follow / collect --------------------------------------------------------------------

    def submit(self, run: RunHandle) -> tuple[str, dict[str, Any]]:
        """Write the snapshot, create or update the pipeline, start it; return (execution ARN, definition)."""
        from flowyml_sagemaker.aws import is_missing, resource_name
        from flowyml_sagemaker.definition import definition_json

        self._require()
        run.prepare_remote()
        definition = self.definition(run)
        name = self.pipeline_name(run)
        body = definition_json(definition)
        try:
            self.sm.describe_pipeline(PipelineName=name)
            exists = True
        except Exception as exc:
            if not is_missing(exc):
                raise self._wrap(exc, f"looking up pipeline {name}") from exc
            exists = False
        if exists:
            self._call(f"updating pipeline {name}", "update_pipeline", PipelineName=name, PipelineDefinition=body, RoleArn=self.options.role_arn,
                       PipelineDescription=f"FlowyML pipeline {run.pipeline_name}")
        else:
            tags = [{"Key": "flowyml:pipeline", "Value": run.pipeline_name}] + [{"Key": k, "Value": v} for k, v in self.options.tags.items()]
            self._call(f"creating pipeline {name}", "create_pipeline", PipelineName=name, PipelineDefinition=body, RoleArn=self.options.role_arn,
                       PipelineDescription=f"FlowyML pipeline {run.pipeline_name}", ClientRequestToken=uuid.uuid4().hex, Tags=tags)
        start: dict[str, Any] = {
            "PipelineName": name,
            "PipelineExecutionDisplayName": resource_name("run", run.run_id, limit=82),
            "PipelineExecutionDescription": f"FlowyML run {run.run_id} on stack {run.stack_name}",
            "ClientRequestToken": resource_name(run.run_id, uuid.uuid4().hex, limit=128),  # 32 to 128 characters
        }
        if self.options.max_parallel_steps:
            start["ParallelismConfiguration"] = {"MaxParallelExecutionSteps": self.options.max_parallel_steps}
        arn = self._call(f"starting pipeline {name}", "start_pipeline_execution", **start)["PipelineExecutionArn"]
        log.info("run %s started as SageMaker pipeline execution %s", run.run_id, arn)
        return arn, definition

    def _wrap(self, exc: Exception, action: str) -> FlowymlError:
        from flowyml_sagemaker.aws import error_message, fix_for

        return PipelineError(f"SageMaker orchestrator: {action} failed: {error_message(exc)}", hint=fix_for(exc, action))

    def step_statuses(self, execution_arn: str) -> dict[str, dict[str, Any]]:
        """SageMaker's view of each step: ``{name: {"StepStatus": ..., "FailureReason": ...}}`` ({} when unavailable)."""
        try:
            steps: dict[str, dict[str, Any]] = {}
            for page in self.sm.get_paginator("list_pipeline_execution_steps").paginate(PipelineExecutionArn=execution_arn):
                for step in page.get("PipelineExecutionSteps", []):
                    steps[step["StepName"]] = step
            return steps
        except Exception as exc:
            # Per-step detail is a nicety (it needs sagemaker:ListPipelineExecutionSteps); the run's status does not depend on it.
            if not self._step_listing_warned:
                log.warning("per-step status is unavailable (%s); following the execution's status only", exc)
                self._step_listing_warned = True
            return {}

    def follow(self, run: RunHandle, execution_arn: str) -> dict[str, Any]:
        """Poll the execution until it ends (showing each step's status) or times out (then stop it)."""
        started = time.monotonic()
        shown: dict[str, str] = {}
        while True:
            execution = self._call("describing the pipeline execution", "describe_pipeline_execution", PipelineExecutionArn=execution_arn)
            steps = self.step_statuses(execution_arn)
            for name, step in steps.items():
                status = step.get("StepStatus", "?")
                if shown.get(name) != status:
                    shown[name] = status
                    reason = f": {step['FailureReason']}" if step.get("FailureReason") else ""
                    log.info("step %s: %s%s", name, status, reason)
            status = execution.get("PipelineExecutionStatus")
            if status in ENDED:
                execution["Steps"] = steps
                return dict(execution)
            elapsed = time.monotonic() - started
            if elapsed >= self.options.timeout_seconds:
                self._call("stopping the pipeline execution", "stop_pipeline_execution", PipelineExecutionArn=execution_arn, ClientRequestToken=uuid.uuid4().hex)
                raise PipelineError(
                    f"SageMaker pipeline execution {execution_arn} did not finish within {self.options.timeout_seconds:g}s; it was stopped",
                    hint="raise orchestrator.timeout_seconds in flowyml.yaml",
                )
            time.sleep(self.options.poll_interval)

    def collect(self, run: RunHandle, execution: dict[str, Any]) -> None:
        """Record the steps: SageMaker's failure reasons first, then the records the containers wrote."""
        from flowyml_sagemaker.definition import step_name

        steps = execution.get("Steps") or {}
        status = execution.get("PipelineExecutionStatus")
        unfinished: set[str] = set()
        for name in run.steps_to_run:  # in dependency order: upstream steps are decided first (cached ones are recorded)
            # Each of these is replaced by the step's own record when its container got as far as writing one.
            step = steps.get(step_name(name)) or {}
            waiting_on = [u for u in run.upstream(name) if u in unfinished]
            if step.get("StepStatus") in ("Failed", "Stopped"):
                unfinished.add(name)
                run.fail_step(name, f"SageMaker step {step['StepStatus'].lower()}: {step.get('FailureReason') or 'no reason given'}")
            elif status != "Succeeded" and step.get("StepStatus") != "Succeeded":
                unfinished.add(name)
                why = f"SageMaker pipeline execution {str(status).lower()}: {execution.get('FailureReason') or 'no reason given'}"
                if waiting_on:
                    run.skip_step(name, f"upstream step {waiting_on[0]!r} did not complete ({why})")
                else:
                    run.fail_step(name, why)
        if execution.get("PipelineExecutionStatus") != "Succeeded":
            log.error("SageMaker pipeline execution %s: %s", execution.get("PipelineExecutionStatus"), execution.get("FailureReason") or "no reason given")
        run.collect_remote_results()

    @flowyml.hookimpl
    def flowyml_orchestrator_run(self, run: RunHandle) -> bool:
        self._require()
        run.prepare_remote()  # also answers what it can from the cache: those steps are not submitted
        if not run.steps_to_run:
            run.collect_remote_results()  # every step is cached: no pipeline execution at all
            return True
        arn, _ = self.submit(run)
        self.collect(run, self.follow(run, arn))
        return True

    def close(self) -> None:
        self._client = None
