"""The vertex_ai orchestrator: compiled spec, submission to the fake, and the tasks run for real.

No container runtime here: a "Vertex executor" thread plays the part of
Vertex AI Pipelines. When the fake receives the job, it runs each task's
container command from the submitted spec in a fresh subprocess, in
dependency order, with the task's environment, against the GCS emulator;
then it lets the fake report the job SUCCEEDED (or FAILED, as Vertex would).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from support import SUPPORT, spec_pipelines

from flowyml.testing import write_config

STACK = "gcp-prod"
IMAGE = "europe-docker.pkg.dev/acme/ml/flowyml-steps:1"
PIPELINE_FILE = "pipeline.py"
FLOWYML = str(Path(sys.executable).with_name("flowyml"))


def stack_body(gcs_store: dict[str, Any], fake: Any, **orchestrator: Any) -> dict[str, Any]:
    return {
        "orchestrator": {
            "type": "vertex_ai", "project": fake.project, "location": fake.location, "api_endpoint": fake.endpoint,
            "image": IMAGE, "poll_interval": 0.2, "timeout": 300, "cpu_limit": "2", "memory_limit": "4G",
            "environment": {"EXTRA": "1"}, **orchestrator,
        },
        "artifact_store": gcs_store,
        "model_registry": {"type": "vertex_model_registry"},
        "model_deployer": {"type": "vertex_endpoint", "timeout": 60},
        "artifact_routing": {
            "Model": {"store": "gcs", "register": True, "deploy": True, "endpoint_name": "production-model", "deploy_condition": "manual"},
            "Dataset": {"store": "gcs", "path": "{run_id}/datasets/{step_name}"},
        },
    }


class VertexExecutor(threading.Thread):
    """Runs the tasks of the next pipeline job the fake receives (the first one it did not have yet), as Vertex would."""

    def __init__(self, fake: Any, project: Path, fail_step: str | None = None) -> None:
        super().__init__(daemon=True)
        self.fake, self.project, self.fail_step = fake, project, fail_step
        self.before = set(fake.pipeline_jobs)
        self.executed: list[tuple[str, list[str], dict[str, str]]] = []
        self.custom_jobs: list[dict[str, Any]] = []
        self.error: BaseException | None = None
        fake.pipeline_progression = ["PIPELINE_STATE_RUNNING"]  # until the tasks have run

    def run(self) -> None:
        try:
            deadline = time.monotonic() + 120
            while not set(self.fake.pipeline_jobs) - self.before:
                if time.monotonic() > deadline:
                    raise TimeoutError("no pipeline job was submitted")
                time.sleep(0.05)
            (job,) = (j for name, j in self.fake.pipeline_jobs.items() if name not in self.before)
            failure = self.execute(job["pipelineSpec"])
            if failure:
                self.fake.fail_pipeline(failure)
            self.fake.pipeline_progression = ["PIPELINE_STATE_SUCCEEDED"]
        except BaseException as exc:
            self.error = exc
            self.fake.fail_pipeline(f"executor crashed: {exc}")
            self.fake.pipeline_progression = ["PIPELINE_STATE_SUCCEEDED"]

    def execute(self, spec: dict[str, Any]) -> str | None:
        tasks = spec["root"]["dag"]["tasks"]
        executors = spec["deploymentSpec"]["executors"]
        done: set[str] = set()
        failed: list[str] = []
        messages: list[str] = []
        while len(done) < len(tasks):
            ready = [t for t, body in tasks.items() if t not in done and set(body.get("dependentTasks", [])) <= done]
            for task in ready:
                if set(tasks[task].get("dependentTasks", [])) & set(failed):
                    done.add(task)  # Vertex does not start a task whose upstream failed; independent ones go on
                    failed.append(task)
                    continue
                exec_label = spec["components"][tasks[task]["componentRef"]["name"]]["executorLabel"]
                container = executors[exec_label]["container"]
                limit = 300.0
                if container["command"][-1].endswith("custom_job.launcher"):
                    # A CustomJob task: Vertex starts the job's worker pool container, within the job's timeout.
                    payload = json.loads(container["args"][container["args"].index("--payload") + 1])
                    self.custom_jobs.append(payload)
                    container = payload["jobSpec"]["workerPoolSpecs"][0]["containerSpec"]
                    limit = float(payload["jobSpec"].get("scheduling", {}).get("timeout", "300s").rstrip("s"))
                command = [*container["command"], *container["args"]]
                env = {e["name"]: e["value"] for e in container.get("env", [])}
                shown = list(command)
                if command[0] == "flowyml":
                    command[0] = FLOWYML  # the image's `flowyml` is this environment's
                if tasks[task]["taskInfo"]["name"] == self.fail_step:
                    env[spec_pipelines.FAIL_ENV] = "1"
                for _ in range(1 + int(tasks[task].get("retryPolicy", {}).get("maxRetryCount", 0))):  # KFP's retry policy
                    self.executed.append((task, shown, dict(env)))
                    done_proc = subprocess.run(
                        command, cwd=self.project, env={**os.environ, **env}, capture_output=True, text=True, timeout=limit
                    )
                    if done_proc.returncode == 0:
                        break
                done.add(task)
                if done_proc.returncode != 0:
                    failed.append(task)
                    messages.append(f"The failed tasks are: [{task}]. {done_proc.stderr.strip().splitlines()[-1]}")
        return f"The DAG failed because some tasks failed. {' '.join(messages)}" if messages else None


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gcp: dict[str, Any], gcs_store: dict[str, Any]) -> Path:
    """A project folder as the step image would hold it: flowyml.yaml and the pipeline file."""
    (tmp_path / PIPELINE_FILE).write_text("from support.spec_pipelines import spec_pipeline  # noqa: F401 - the run's target\n")
    write_config(tmp_path, {STACK: stack_body(gcs_store, gcp["fake"]), "local": {"orchestrator": {"type": "local"}, "artifact_store": {"type": "local"}}})
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    # the task processes import the shared pipeline (tests/support) as the in-process run does
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(SUPPORT.parent), os.environ.get("PYTHONPATH", "")])))
    # PipelineJob.submit() checks the pipeline-root bucket with google-cloud-storage: let it find it in the emulator.
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcp["gcs"].endpoint_url)
    return tmp_path


def load_pipeline(project: Path) -> Any:
    from flowyml.runner.targets import load_target

    return load_target(str(project / f"{PIPELINE_FILE}:spec_pipeline"))


def test_compiled_spec_matches_the_graph() -> None:
    from flowyml_vertex.compiler import compile_spec

    spec = compile_spec(
        "Spec Pipeline",
        ["load", "preprocess", "train_model", "evaluate"],
        {"preprocess": ["load"], "train_model": ["preprocess"], "evaluate": ["train_model", "preprocess"]},
        {s: ["flowyml", "step", "run", "--step", s] for s in ["load", "preprocess", "train_model", "evaluate"]},
        image=IMAGE,
        env={"A": "1"},
        cpu_limit="2",
    )
    assert spec["pipelineInfo"]["name"] == "spec-pipeline"
    tasks = spec["root"]["dag"]["tasks"]
    assert list(tasks) == ["load", "preprocess", "train-model", "evaluate"]
    assert tasks["evaluate"]["dependentTasks"] == ["preprocess", "train-model"]
    assert "dependentTasks" not in tasks["load"]
    assert tasks["train-model"]["taskInfo"]["name"] == "train_model"
    container = spec["deploymentSpec"]["executors"]["exec-train-model"]["container"]
    assert container == {
        "image": IMAGE,
        "command": ["flowyml"],
        "args": ["step", "run", "--step", "train_model"],
        "env": [{"name": "A", "value": "1"}],
        "resources": {"resourceCpuLimit": "2"},
    }


@pytest.mark.slow
def test_run_on_vertex_matches_a_local_run(project: Path, gcp: dict[str, Any]) -> None:
    fake = gcp["fake"]
    pipeline = load_pipeline(project)
    local = pipeline.run(stack="local")
    assert local.success, local.error

    executor = VertexExecutor(fake, project)
    executor.start()
    remote = pipeline.run(stack=STACK)
    executor.join(timeout=60)
    assert executor.error is None
    assert remote.success, remote.error

    # The submitted job: one task per step, dependencies as the graph, the step runner in the image.
    (job,) = fake.pipeline_jobs.values()
    assert job["state"] == "PIPELINE_STATE_SUCCEEDED"
    assert job["labels"]["flowyml_run_id"] == remote.run_id.lower() and job["labels"]["managed_by"] == "flowyml"
    assert job["runtimeConfig"]["gcsOutputDirectory"] == f"gs://{gcp['bucket']}/vertex-pipelines"
    spec = job["pipelineSpec"]
    tasks = spec["root"]["dag"]["tasks"]
    assert {t: sorted(b.get("dependentTasks", [])) for t, b in tasks.items()} == {
        "load": [], "preprocess": ["load"], "train-model": ["preprocess"], "evaluate": ["preprocess", "train-model"],
    }
    assert [t for t, _, _ in executor.executed] == ["load", "preprocess", "train-model", "evaluate"]
    for task, command, env in executor.executed:
        container = spec["deploymentSpec"]["executors"][f"exec-{task}"]["container"]
        assert container["image"] == IMAGE
        assert container["resources"] == {"resourceCpuLimit": "2", "resourceMemoryLimit": "4G"}
        assert command[:5] == ["flowyml", "step", "run", "--stack", STACK]
        assert command[command.index("--step") + 1] == tasks[task]["taskInfo"]["name"]
        assert command[command.index("--snapshot") + 1].startswith(f"gs://{gcp['bucket']}/.flowyml-runs/{remote.run_id}/")
        assert env["FLOWYML_RUN_ID"] == remote.run_id and env["EXTRA"] == "1"

    # Same artifacts and metadata as the local run.
    assert [s.status for s in remote.steps.values()] == ["completed"] * 4
    for step in ("load", "preprocess", "evaluate"):
        assert remote.artifact(step).content_hash == local.artifact(step).content_hash
        assert remote.artifact(step).artifact_type == local.artifact(step).artifact_type
    assert remote.artifact("preprocess").uri == f"gs://{gcp['bucket']}/{remote.run_id}/datasets/preprocess"
    assert remote.load("evaluate") == local.load("evaluate")
    pd.testing.assert_frame_equal(remote.load("preprocess").data, local.load("preprocess").data)
    rows = spec_pipelines.frame()[["x1", "x2"]]
    assert list(remote.load("train_model").data.predict(rows)) == list(local.load("train_model").data.predict(rows))
    from flowyml.metadata.store import MetadataStore

    db = MetadataStore.for_project(project)
    assert {r["step_name"]: r["status"] for r in db.steps_of(remote.run_id)} == dict.fromkeys(["load", "preprocess", "train_model", "evaluate"], "completed")
    assert db.consumers_of(remote.run_id, remote.artifact("train_model").artifact_id) == ["evaluate"]

    # The Model was registered from the client after collection, with the remotely stored URI.
    (model_id,) = fake.models
    assert fake.models[model_id]["1"]["artifactUri"] == remote.artifact("train_model").uri


@pytest.mark.slow
def test_failed_job_reports_vertex_error(project: Path, gcp: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    fake = gcp["fake"]
    pipeline = load_pipeline(project)
    executor = VertexExecutor(fake, project, fail_step="train_model")
    executor.start()
    run = pipeline.run(stack=STACK)
    executor.join(timeout=60)
    assert run.status == "failed"
    assert run.steps["preprocess"].status == "completed"
    assert run.steps["train_model"].status == "failed"
    assert "training diverged" in run.steps["train_model"].error  # the step record the task wrote
    assert run.steps["evaluate"].status == "skipped"
    assert "ended FAILED" in run.steps["evaluate"].error and "train-model" in run.steps["evaluate"].error
    assert fake.models == {}  # nothing registered from a failed run


@pytest.mark.slow
def test_step_settings_run_on_vertex_retried_by_kfp_with_every_attempt_recorded(
    project: Path, gcp: dict[str, Any], gcs_store: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step failing once, with retries: 1 and a timeout: KFP runs a second container, and the client records both attempts."""
    fake = gcp["fake"]
    monkeypatch.setenv(spec_pipelines.FAIL_ONCE_ENV, str(project / "first-attempt-done"))  # read by the task processes
    config = project / "flowyml.yaml"
    config.write_text(config.read_text() + "steps:\n  train_model:\n    retries: 1\n    timeout: 120\n    resources: { cpu: 2, memory: 4Gi }\n")
    executor = VertexExecutor(fake, project)
    executor.start()
    run = load_pipeline(project).run(stack=STACK)
    executor.join(timeout=60)
    assert executor.error is None
    assert run.success, run.error
    assert [t for t, _, _ in executor.executed] == ["load", "preprocess", "train-model", "train-model", "evaluate"]
    (job,) = executor.custom_jobs  # timeout: train_model ran as a CustomJob on the machine its resources fit
    assert job["jobSpec"]["workerPoolSpecs"][0]["machineSpec"] == {"machineType": "n1-standard-2"}
    assert job["jobSpec"]["scheduling"] == {"timeout": "120s"}
    attempts = run.steps["train_model"].attempts
    assert [(a.attempt, a.status) for a in attempts] == [(1, "failed"), (2, "completed")]
    assert "first attempt fails" in attempts[0].error
    from flowyml.client import Client

    stored = Client(project).get_run(run.run_id).steps["train_model"].attempts
    assert [(a.attempt, a.status) for a in stored] == [(1, "failed"), (2, "completed")]


def test_missing_image_is_a_config_error(project: Path, gcp: dict[str, Any], gcs_store: dict[str, Any]) -> None:
    from flowyml.errors import ConfigError

    write_config(project, {STACK: stack_body(gcs_store, gcp["fake"], image=None)})
    with pytest.raises(ConfigError, match="needs a container image") as caught:
        load_pipeline(project).run(stack=STACK)
    assert "orchestrator.image" in str(caught.value)
    assert caught.value.line and "flowyml.yaml:" in str(caught.value)  # the YAML line (was lost)
    assert gcp["fake"].pipeline_jobs == {}
