"""The sagemaker orchestrator passes flowyml.testing.OrchestratorContract on moto, its container commands run locally.

moto stores the pipeline and starts an execution but runs no step, so right
after submitting, the test plays SageMaker's part: each step's container
command from the submitted definition, in a fresh process, in dependency
order; a step whose DependsOn step failed is not started, as SageMaker does.
Then the real ``flowyml_orchestrator_run`` follows the execution and collects.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sm_helpers import ROLE, STEP_IMAGE, s3_store
from test_sagemaker_orchestrator import flowyml_command

from flowyml.testing import OrchestratorContract
from flowyml_sagemaker.orchestrator import SageMakerOrchestrator


def run_steps_like_sagemaker(definition: dict[str, Any], project: Path) -> dict[str, int]:
    """Each step's container command once its DependsOn steps succeeded; the exit code of each step started."""
    pending = [step for step in definition["Steps"]]
    codes: dict[str, int] = {}
    while pending:
        step = next(s for s in pending if all(dep in codes for dep in s.get("DependsOn", [])))
        pending.remove(step)
        if any(codes[dep] != 0 for dep in step.get("DependsOn", [])):
            codes[step["Name"]] = -1  # not started
            continue
        args = step["Arguments"]
        proc = subprocess.run(flowyml_command(args["AppSpecification"]["ContainerEntrypoint"]), cwd=project,
                              env={**os.environ, **args["Environment"]}, capture_output=True, text=True, timeout=300, check=False)
        codes[step["Name"]] = proc.returncode
    return codes


class TestSageMakerOrchestrator(OrchestratorContract):
    @pytest.fixture
    def orchestrator_config(self, aws_env: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
        submit = SageMakerOrchestrator.submit

        def submit_and_run_the_steps(orchestrator: SageMakerOrchestrator, run: Any) -> tuple[str, dict[str, Any]]:
            arn, definition = submit(orchestrator, run)
            run_steps_like_sagemaker(definition, Path.cwd())
            return arn, definition

        monkeypatch.setattr(SageMakerOrchestrator, "submit", submit_and_run_the_steps)
        return {"type": "sagemaker", "role_arn": ROLE, "image_uri": STEP_IMAGE, "poll_interval": 0.05, "timeout_seconds": 30, "max_attempts": 1}

    @pytest.fixture
    def stack_components(self, s3_bucket: str) -> dict[str, Any]:
        return {"artifact_store": s3_store(s3_bucket)}
