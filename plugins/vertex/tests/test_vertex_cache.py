"""Remote steps answered from the cache before Vertex AI starts a container for them.

The client computes each step's cache key before submitting (as a local run
does) and compiles only the steps that must run; the containers (played by
the VertexExecutor thread, as in test_vertex_orchestrator.py) record their
results in the artifact store's cache index, where a second checkout of the
project (another folder, an empty metadata store, the same GCS bucket) finds
them.
"""

from __future__ import annotations

import linecache
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from support import SUPPORT
from support.cache_pipelines import STEPS, change_double
from test_vertex_orchestrator import IMAGE, VertexExecutor

from flowyml.cli.main import cli
from flowyml.metadata.store import MetadataStore
from flowyml.runner.cache_index import entry_key
from flowyml.testing import load_pipeline, make_project

STACK = "vertex"
pytestmark = pytest.mark.slow


def stacks(gcs_store: dict[str, Any], fake: Any) -> dict[str, Any]:
    orchestrator = {"type": "vertex_ai", "project": fake.project, "location": fake.location, "api_endpoint": fake.endpoint,
                    "image": IMAGE, "poll_interval": 0.1, "timeout": 300}
    return {STACK: {"orchestrator": orchestrator, "artifact_store": gcs_store}}


def checkout(folder: Path, gcs_store: dict[str, Any], fake: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout of the project in ``folder`` (its own metadata store), entered."""
    make_project(folder, stacks(gcs_store, fake), SUPPORT / "cache_pipelines.py")
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gcp: dict[str, Any], gcs_store: dict[str, Any]) -> Path:
    # PipelineJob.submit() checks the pipeline-root bucket with google-cloud-storage: let it find it in the emulator.
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcp["gcs"].endpoint_url)
    return checkout(tmp_path / "checkout-1", gcs_store, gcp["fake"], monkeypatch)


def pipeline_of(folder: Path) -> Any:
    """The pipeline as the folder's pipelines.py defines it now (re-imported after an edit)."""
    for name in [n for n in sys.modules if n.startswith("flowyml_target_pipelines_")]:
        del sys.modules[name]
    linecache.checkcache()
    return load_pipeline(folder, "cache_pipeline")


def run_on_vertex(folder: Path, fake: Any, *, expect_job: bool = True, cache: bool = True) -> tuple[Any, list[str]]:
    """Run the pipeline; return the run and the steps whose containers were started (none when no job was submitted)."""
    jobs = len(fake.pipeline_jobs)
    executor = VertexExecutor(fake, folder) if expect_job else None
    if executor:
        executor.start()
    run = pipeline_of(folder).run(stack=STACK, cache=cache)
    if executor:
        executor.join(timeout=120)
        assert executor.error is None, executor.error
    assert len(fake.pipeline_jobs) == jobs + int(expect_job), "a pipeline job was submitted" if not expect_job else "no pipeline job was submitted"
    launched = [command[command.index("--step") + 1] for _, command, _ in (executor.executed if executor else [])]
    assert run.success, run.error
    return run, launched


def statuses(run: Any) -> dict[str, str]:
    return {name: step.status for name, step in run.steps.items()}


def recorded(folder: Path, run_id: str) -> dict[str, tuple[str, str | None]]:
    return {r["step_name"]: (r["status"], r["cached_from"]) for r in MetadataStore.for_project(folder).steps_of(run_id)}


def gcs_files(gcp: dict[str, Any]) -> Any:
    import gcsfs

    return gcsfs.GCSFileSystem(token="anon", endpoint_url=gcp["gcs"].endpoint_url)


def test_an_identical_run_and_a_second_checkout_submit_no_job(project: Path, gcp: dict[str, Any], gcs_store: dict[str, Any],
                                                             tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = gcp["fake"]
    first, launched = run_on_vertex(project, fake)
    assert sorted(launched) == sorted(STEPS) and set(statuses(first).values()) == {"completed"}
    # each container recorded its result in the artifact store's cache index
    fs = gcs_files(gcp)
    keys = {r["step_name"]: r["cache_key"] for r in MetadataStore.for_project(project).steps_of(first.run_id)}
    for step in STEPS:
        assert fs.exists(f"{gcp['bucket']}/{entry_key(keys[step])}/flowyml.json"), step

    # the same run again: nothing is submitted, every step is recorded cached from the first run
    again, _ = run_on_vertex(project, fake, expect_job=False)
    assert statuses(again) == dict.fromkeys(STEPS, "cached")
    assert recorded(project, again.run_id) == dict.fromkeys(STEPS, ("cached", first.run_id))
    assert again.load("total").data == {"total": 90.0}  # the first run's outputs, referenced, not copied
    assert again.artifact("double").uri == first.artifact("double").uri
    assert all(e.detail.startswith("cached: reusing") for e in again.events if e.action == "store")
    shown = CliRunner().invoke(cli, ["runs", "show", again.run_id], catch_exceptions=False)
    assert shown.exit_code == 0 and shown.output.count(first.run_id) >= len(STEPS), shown.output

    # a second checkout (its own, empty metadata store; the same bucket) finds the first checkout's results in the index
    second = checkout(tmp_path / "checkout-2", gcs_store, fake, monkeypatch)
    other, _ = run_on_vertex(second, fake, expect_job=False)
    assert recorded(second, other.run_id) == dict.fromkeys(STEPS, ("cached", first.run_id))
    assert [r["run_id"] for r in MetadataStore.for_project(second).list_runs()] == [other.run_id]

    # --no-cache still submits every step
    fresh, launched = run_on_vertex(second, fake, cache=False)
    assert sorted(launched) == sorted(STEPS) and set(statuses(fresh).values()) == {"completed"}


def test_changed_code_and_broken_artifacts_submit_only_what_must_run(project: Path, gcp: dict[str, Any]) -> None:
    fake = gcp["fake"]
    first, _ = run_on_vertex(project, fake)

    # double's code changes: double and what it feeds are submitted, source and side are not
    change_double(str(project / "pipelines.py"))
    edited, launched = run_on_vertex(project, fake)
    assert sorted(launched) == ["double", "total"]
    (job,) = (j for j in fake.pipeline_jobs.values() if j["labels"]["flowyml_run_id"] == edited.run_id.lower())
    assert sorted(job["pipelineSpec"]["root"]["dag"]["tasks"]) == ["double", "total"]
    assert "dependentTasks" not in job["pipelineSpec"]["root"]["dag"]["tasks"]["double"]  # source is done: nothing to wait on
    assert statuses(edited) == {"source": "cached", "double": "completed", "total": "cached", "side": "cached"}
    # total's container found its result: the same input content as in the first run
    assert recorded(project, edited.run_id)["total"] == ("cached", first.run_id)

    # an edited byte in source's stored output: source runs again (and so does everything fed by it)
    fs = gcs_files(gcp)
    source_dir = first.artifact("source").uri.removeprefix("gs://")
    (data,) = [f for f in fs.find(source_dir) if not f.endswith("flowyml.json")]
    body = fs.cat_file(data)
    fs.pipe_file(data, body[:-1] + (b"]" if body[-1:] != b"]" else b" "))
    tampered, launched = run_on_vertex(project, fake)
    assert sorted(launched) == sorted(STEPS)
    assert statuses(tampered)["source"] == "completed"
    assert tampered.artifact("source").uri != first.artifact("source").uri

    # side's stored output deleted: side alone runs again
    fs.rm(tampered.artifact("side").uri.removeprefix("gs://"), recursive=True)
    deleted, launched = run_on_vertex(project, fake)
    assert launched == ["side"]
    assert statuses(deleted) == {"source": "cached", "double": "cached", "total": "cached", "side": "completed"}
