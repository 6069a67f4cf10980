"""The sagemaker orchestrator: the generated SageMaker Pipelines definition, submitted to moto, then run step by step.

moto stores the pipeline and starts an execution, but runs no step (the
execution is "Succeeded" at once) and does not implement
``ListPipelineExecutionSteps`` (HTTP 500). So after submitting, the test plays
SageMaker's part: it runs each step's container command from the submitted
definition, in dependency order, each in a fresh subprocess, against moto's
S3 - exactly what each processing job's container runs. The orchestrator then
follows the execution and collects the step records, and the run must come
out as a local run does.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.session import get_session
from botocore.validate import validate_parameters
from sm_helpers import ROLE, ROUTE, STEP_IMAGE, aws_staging, sm_client
from support import SUPPORT

from flowyml.plugins.kinds import Kind
from flowyml.runner.engine import RunSession
from flowyml.testing import load_pipeline, make_project
from flowyml.testing import start_run as begin_run

ORCHESTRATOR = {"type": "sagemaker", "role_arn": ROLE, "image_uri": STEP_IMAGE, "poll_interval": 0.05, "timeout_seconds": 30,
                "max_attempts": 1, "environment": {"EXTRA": "1"}}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, s3_bucket: str) -> Path:
    reference = {
        "orchestrator": {"type": "local", "max_parallel_steps": 1},
        "artifact_store": {"type": "local", "path": "./artifacts"},
        "artifact_routing": {"Model": {"path": ROUTE}, "Dataset": {"path": ROUTE}},
    }
    stacks = {"sm": aws_staging(s3_bucket, {"register": True}, orchestrator=ORCHESTRATOR), "reference": reference}
    folder = make_project(tmp_path / "project", stacks, SUPPORT / "aws_spec_pipelines.py")
    monkeypatch.chdir(folder)
    return folder


def start_run(project: Path, stack_name: str) -> RunSession:
    """Begin the run exactly as ``pipeline.run()`` does, stopping before the orchestrator (moto runs no step)."""
    return begin_run(load_pipeline(project, "spec_pipeline"), stack=stack_name, target="pipelines.py:spec_pipeline")


def flowyml_command(command: list[str]) -> list[str]:
    """The container runs ``flowyml ...``: the same console script, from this environment."""
    script = Path(sys.executable).parent / "flowyml"
    assert command[0] == "flowyml"
    return [str(script), *command[1:]] if script.exists() else [sys.executable, "-m", "flowyml", *command[1:]]


def run_like_sagemaker(definition: dict[str, Any], project: Path) -> list[str]:
    """Run each step's container command once its DependsOn steps succeeded; return the order used."""
    pending = {step["Name"]: step for step in definition["Steps"]}
    done: list[str] = []
    while pending:
        ready = [name for name, step in pending.items() if all(dep in done for dep in step.get("DependsOn", []))]
        assert ready, f"steps {sorted(pending)} wait on each other"
        for name in ready:
            args = pending.pop(name)["Arguments"]
            env = {**os.environ, **args["Environment"]}
            proc = subprocess.run(flowyml_command(args["AppSpecification"]["ContainerEntrypoint"]), cwd=project, env=env,
                                  capture_output=True, text=True, timeout=300, check=False)
            assert proc.returncode == 0, f"step {name} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
            done.append(name)
    return done


def test_definition_submit_run_steps_and_collect_like_a_local_run(project: Path, s3_bucket: str, aws_env: Any, caplog: pytest.LogCaptureFixture) -> None:
    session = start_run(project, "sm")
    run, metadata = session.run, session.metadata
    orchestrator = run.stack.component(Kind.ORCHESTRATOR)
    arn, definition = orchestrator.submit(run)

    # -- the definition: one processing step per FlowyML step, dependencies, commands, image, role
    steps = {s["Name"]: s for s in definition["Steps"]}
    assert list(steps) == run.steps and set(steps) == {"load_data", "preprocess", "params", "train_model", "evaluate"}
    processing = get_session().get_service_model("sagemaker").operation_model("CreateProcessingJob").input_shape
    for name, step in steps.items():
        assert step["Type"] == "Processing"
        assert sorted(step.get("DependsOn", [])) == sorted(run.upstream(name))
        args = step["Arguments"]
        assert args["AppSpecification"]["ContainerEntrypoint"] == run.step_command(name) == [
            "flowyml", "step", "run", "--stack", "sm", "--snapshot", run.snapshot_uri, "--step", name]
        assert args["AppSpecification"]["ImageUri"] == STEP_IMAGE and args["RoleArn"] == ROLE
        assert args["Environment"] == {"FLOWYML_STACK": "sm", "FLOWYML_RUN_ID": run.run_id, "EXTRA": "1"}
        assert args["ProcessingResources"]["ClusterConfig"] == {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30}
        # each step's arguments are a valid CreateProcessingJob request (SageMaker adds the job name)
        report = validate_parameters({**args, "ProcessingJobName": "x"}, processing)
        assert report is None, report
    assert set(steps["evaluate"]["DependsOn"]) == {"train_model", "preprocess"} and "DependsOn" not in steps["load_data"]
    assert run.snapshot_uri.startswith(f"s3://{s3_bucket}/ml/.flowyml-runs/{run.run_id}/")

    # -- what moto holds
    sm = sm_client(aws_env.endpoint_url)
    stored = sm.describe_pipeline(PipelineName="flowyml-spec-pipeline")
    assert json.loads(stored["PipelineDefinition"]) == definition and stored["RoleArn"] == ROLE
    assert sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineArn"] == stored["PipelineArn"]

    # -- SageMaker's part, played locally: each container command, in dependency order, in a fresh process
    order = run_like_sagemaker(definition, project)
    assert order.index("train_model") > order.index("preprocess") and order[-1] == "evaluate"

    # -- the orchestrator follows the execution and collects the containers' records
    with caplog.at_level(logging.WARNING, logger="flowyml.sagemaker"):
        execution = orchestrator.follow(run, arn)
    assert execution["PipelineExecutionStatus"] == "Succeeded"
    assert "per-step status is unavailable" in caplog.text  # moto: ListPipelineExecutionSteps is not implemented
    orchestrator.collect(run, execution)
    finished = session.finish()
    assert finished.success, finished.error

    # -- the same as a local run of the same pipeline
    reference = load_pipeline(project, "spec_pipeline").run(stack="reference")
    assert reference.success
    assert {n: r.status for n, r in run.results.items()} == {n: s.status for n, s in reference.steps.items()}
    for name, step in reference.steps.items():
        remote = run.results[name].outputs["output"]
        local = step.outputs["output"]
        assert (remote.artifact_type, remote.content_hash, remote.size, remote.serializer) == (local.artifact_type, local.content_hash, local.size, local.serializer)
        assert remote.uri.startswith(f"s3://{s3_bucket}/ml/")
        row = metadata.get_artifact(remote.artifact_id)
        assert row is not None and row["content_hash"] == remote.content_hash and row["run_id"] == run.run_id
    assert run.results["train_model"].outputs["output"].uri == f"s3://{s3_bucket}/ml/{ROUTE.format(run_id=run.run_id, step_name='train_model')}"
    recorded = {r["step_name"]: r["status"] for r in metadata.steps_of(run.run_id)}
    assert recorded == {n: "completed" for n in run.steps}
    consumed = {(r["input_name"], r["artifact_id"]) for r in metadata.inputs_of(run.run_id, "evaluate")}
    assert consumed == {("model", run.results["train_model"].outputs["output"].artifact_id), ("data", run.results["preprocess"].outputs["output"].artifact_id)}

    # -- and the model collected from the remote run was registered in SageMaker
    summaries = sm.list_model_packages(ModelPackageGroupName="fraud-detector")["ModelPackageSummaryList"]
    package = sm.describe_model_package(ModelPackageName=summaries[0]["ModelPackageArn"])
    assert package["CustomerMetadataProperties"]["flowyml.run_id"] == run.run_id
    assert float(package["CustomerMetadataProperties"]["metric.accuracy"]) == pytest.approx(reference.load("evaluate").data["accuracy"])


def test_second_submit_updates_the_pipeline(project: Path, aws_env: Any) -> None:
    first = start_run(project, "sm").run
    first.stack.component(Kind.ORCHESTRATOR).submit(first)
    second = start_run(project, "sm").run
    _, definition = second.stack.component(Kind.ORCHESTRATOR).submit(second)
    stored = sm_client(aws_env.endpoint_url).describe_pipeline(PipelineName="flowyml-spec-pipeline")
    assert json.loads(stored["PipelineDefinition"]) == definition  # the new run's snapshot
    assert second.run_id in stored["PipelineDefinition"] and first.run_id not in stored["PipelineDefinition"]


def test_missing_role_or_image_is_a_clear_error(project: Path, s3_bucket: str, aws_env: Any) -> None:
    from flowyml.errors import ConfigError

    config = yaml.safe_load((project / "flowyml.yaml").read_text())
    del config["stacks"]["sm"]["orchestrator"]["image_uri"]
    (project / "flowyml.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    with pytest.raises(ConfigError, match="needs image_uri") as caught:
        load_pipeline(project, "spec_pipeline").run(stack="sm")
    assert "stacks.sm.orchestrator.image_uri" in str(caught.value)
    assert caught.value.line and "flowyml.yaml:" in str(caught.value)  # the orchestrator's line (the option is missing)


def test_a_failed_execution_fails_the_failed_step_and_skips_its_dependents(project: Path, aws_env: Any) -> None:
    """What SageMaker reports when a step failed and no container wrote a record (e.g. the instance was lost)."""
    session = start_run(project, "sm")
    run = session.run
    orchestrator = run.stack.component(Kind.ORCHESTRATOR)
    run.prepare_remote()
    execution = {
        "PipelineExecutionStatus": "Failed",
        "FailureReason": "Step failure: One or multiple steps failed.",
        "Steps": {
            "load_data": {"StepStatus": "Succeeded"}, "preprocess": {"StepStatus": "Succeeded"}, "params": {"StepStatus": "Succeeded"},
            "train_model": {"StepStatus": "Failed", "FailureReason": "AlgorithmError: out of memory"},
        },
    }
    orchestrator.collect(run, execution)
    train, evaluate = run.result("train_model"), run.result("evaluate")
    assert train is not None and train.status == "failed" and "out of memory" in (train.error or "")
    assert evaluate is not None and evaluate.status == "skipped"
    assert "upstream step 'train_model' did not complete" in (evaluate.error or "")
    session.finish()


def test_step_settings_retry_in_the_container_and_every_attempt_is_collected(project: Path, aws_env: Any) -> None:
    """retries: 1 on SageMaker: the container runs the step again after it raised; the client records both attempts."""
    pipelines = project / "pipelines.py"
    pipelines.write_text(
        pipelines.read_text().replace(
            "    frame = data.data\n    clf = LogisticRegression",
            "    import pathlib\n    marker = pathlib.Path('first-attempt-done')\n    if not marker.exists():\n"
            "        marker.write_text('x')\n        raise RuntimeError('first attempt fails')\n    frame = data.data\n    clf = LogisticRegression",
        )
    )
    config = yaml.safe_load((project / "flowyml.yaml").read_text())
    config["stacks"]["sm"]["steps"] = {"train_model": {"retries": 1, "retry_delay": 0.1, "timeout": 120, "resources": {"disk": "50Gi"}}}
    (project / "flowyml.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    session = start_run(project, "sm")
    run = session.run
    orchestrator = run.stack.component(Kind.ORCHESTRATOR)
    arn, definition = orchestrator.submit(run)
    step = next(s for s in definition["Steps"] if s["Name"] == "train_model")
    assert step["RetryPolicies"][0]["MaxAttempts"] == 1
    assert step["Arguments"]["StoppingCondition"] == {"MaxRuntimeInSeconds": 2 * 120 + 1 + 600}
    assert step["Arguments"]["ProcessingResources"]["ClusterConfig"]["VolumeSizeInGB"] == 50
    run_like_sagemaker(definition, project)  # the train_model container fails once and succeeds on its second attempt
    orchestrator.collect(run, orchestrator.follow(run, arn))
    finished = session.finish()
    assert finished.success, finished.error
    attempts = finished.steps["train_model"].attempts
    assert [(a.attempt, a.status) for a in attempts] == [(1, "failed"), (2, "completed")]
    assert "first attempt fails" in attempts[0].error
    stored = session.metadata.attempts_of(run.run_id, "train_model")
    assert [(r["attempt"], r["status"]) for r in stored] == [(1, "failed"), (2, "completed")]


def test_a_step_past_its_timeout_in_the_container_fails_and_the_container_exits(project: Path, aws_env: Any) -> None:
    """The step runner's timeout inside a container: the attempt fails at the deadline and `flowyml step run` exits at once."""
    import time

    pipelines = project / "pipelines.py"
    pipelines.write_text(pipelines.read_text().replace("    frame = data.data\n    clf = LogisticRegression", "    import time\n    time.sleep(240)\n    frame = data.data\n    clf = LogisticRegression"))
    config = yaml.safe_load((project / "flowyml.yaml").read_text())
    config["stacks"]["sm"]["steps"] = {"train_model": {"timeout": 2}}
    (project / "flowyml.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    session = start_run(project, "sm")
    run = session.run
    _, definition = run.stack.component(Kind.ORCHESTRATOR).submit(run)
    steps = {s["Name"]: s for s in definition["Steps"]}
    for name in ("load_data", "preprocess", "params"):
        args = steps[name]["Arguments"]
        proc = subprocess.run(flowyml_command(args["AppSpecification"]["ContainerEntrypoint"]), cwd=project, env={**os.environ, **args["Environment"]},
                              capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, proc.stderr[-2000:]
    args = steps["train_model"]["Arguments"]
    began = time.monotonic()
    proc = subprocess.run(flowyml_command(args["AppSpecification"]["ContainerEntrypoint"]), cwd=project, env={**os.environ, **args["Environment"]},
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 1 and "timed out after 2 s" in proc.stderr
    assert time.monotonic() - began < 200, "the container waited for the late step (it sleeps 240 s)"
