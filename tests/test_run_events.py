"""Run-event hooks: the example plugin's audit log receives a run's events in order, for local, cached and remote runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.example_plugin import python

CONFIG = """
stacks:
  local:
    orchestrator: { type: local }
    artifact_store: { type: local, path: ./artifacts }
    model_registry: { type: local }
    experiment_tracker: { type: local }
    artifact_routing: &routing
      Model: { register: true }
      Metrics: { log_to_tracker: true }
  sub:
    orchestrator: { type: subprocess, timeout: 120 }
    artifact_store: { type: local, path: ./artifacts }
    model_registry: { type: local }
    experiment_tracker: { type: local }
    artifact_routing: *routing
active_stack: local
"""

PIPELINE = """
from flowyml import Metrics, Model, pipeline, step


@step
def train() -> Model:
    return Model({"w": [1, 2]}, name="audited")


@step
def evaluate(model: Model) -> Metrics:
    return Metrics({"accuracy": 0.9})


@pipeline
def audited() -> None:
    evaluate(train())
"""

RUNS = (
    "from audited import audited\n"
    "fresh = audited.run(stack='local')\n"
    "cached = audited.run(stack='local')\n"
    "remote = audited.run(stack='sub', cache=False)\n"
    "answered = audited.run(stack='sub')\n"
    "for run in (fresh, cached, remote, answered):\n"
    "    print(run.run_id, run.status, run.error)\n"
)


@pytest.fixture(scope="module")
def audited_runs(tmp_path_factory: pytest.TempPathFactory, example_plugin: Path) -> tuple[list[str], dict[str, list[dict[str, Any]]]]:
    """Four runs of one pipeline (fresh, cached, remote, remote answered from the cache) with the audit plugin on: (run ids, events per run id)."""
    folder = tmp_path_factory.mktemp("audited")
    (folder / "flowyml.yaml").write_text(CONFIG)
    (folder / "audited.py").write_text(PIPELINE)
    done = python(RUNS, folder, example_plugin, env={"FLOWYML_AUDIT_LOG": str(folder / "audit.jsonl")})
    assert done.returncode == 0, done.stderr
    runs = [line.split() for line in done.stdout.strip().splitlines()[-4:]]
    assert [r[1] for r in runs] == ["completed"] * 4, done.stdout
    events: dict[str, list[dict[str, Any]]] = {}
    for line in (folder / "audit.jsonl").read_text().splitlines():
        record = json.loads(line)
        events.setdefault(record["run_id"], []).append(record)
    return [r[0] for r in runs], events


def sequence(events: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [(e["event"], e.get("step_name")) for e in events]


IN_ORDER = [
    ("run_started", None),
    ("artifact_stored", "train"),
    ("step_finished", "train"),
    ("artifact_stored", "evaluate"),
    ("step_finished", "evaluate"),
    ("model_decided", "train"),
    ("run_finished", None),
]


def test_flowyml_run_started_to_flowyml_run_finished_in_order_for_a_local_run(audited_runs) -> None:
    (fresh, *_), events = audited_runs
    got = events[fresh]
    assert sequence(got) == IN_ORDER
    started, finished = got[0], got[-1]
    assert started["pipeline_name"] == "audited" and started["stack_name"] == "local" and started["steps"] == ["train", "evaluate"]
    assert finished["status"] == "completed" and finished["steps"] == {"train": "completed", "evaluate": "completed"}
    assert finished["ended_at"] >= started["started_at"]


def test_flowyml_artifact_stored_and_flowyml_step_finished_carry_the_records(audited_runs) -> None:
    (fresh, *_), events = audited_runs
    stored = [e for e in events[fresh] if e["event"] == "artifact_stored"]
    assert [(e["artifact_type"], e["source"]) for e in stored] == [("Model", "stored"), ("Metrics", "stored")]
    assert all(e["uri"] and len(e["content_hash"]) == 64 for e in stored)
    finished = {e["step_name"]: e for e in events[fresh] if e["event"] == "step_finished"}
    assert finished["train"]["status"] == "completed" and finished["train"]["outputs"] == {"output": stored[0]["artifact_id"]}


def test_flowyml_model_decided_once_per_model(audited_runs) -> None:
    (fresh, cached, remote, answered), events = audited_runs
    for run_id in (fresh, cached, remote, answered):
        decided = [e for e in events[run_id] if e["event"] == "model_decided"]
        assert len(decided) == 1, run_id
        assert decided[0]["model_name"] == "audited" and decided[0]["registered"] is True
        assert decided[0]["deploy"] is False and "deploy is not enabled" in decided[0]["reason"]
    # the cached and the remote run stored the same model: the registry returns the version it has
    versions = {run_id: next(e["model_version"] for e in events[run_id] if e["event"] == "model_decided") for run_id in (fresh, cached, remote)}
    assert versions[fresh] == versions[cached]


def test_a_cached_run_sends_the_same_events(audited_runs) -> None:
    (fresh, cached, *_), events = audited_runs
    assert sequence(events[cached]) == IN_ORDER
    stored = [e for e in events[cached] if e["event"] == "artifact_stored"]
    assert {e["source"] for e in stored} == {"cached"} and {e["cached_from"] for e in stored} == {fresh}
    assert [e["status"] for e in events[cached] if e["event"] == "step_finished"] == ["cached", "cached"]


def test_a_remote_run_sends_the_same_events_when_its_records_are_collected(audited_runs) -> None:
    """The containers (`flowyml step run`) send nothing: the client reports each step once."""
    (_, _, remote, _), events = audited_runs
    assert sequence(events[remote]) == IN_ORDER
    assert {e["source"] for e in events[remote] if e["event"] == "artifact_stored"} == {"remote"}
    assert events[remote][0]["stack_name"] == "sub"


def test_a_remote_run_answered_from_the_cache_sends_the_same_events(audited_runs) -> None:
    """No container starts for a step the client answers from the cache: the hooks fire for it as for a local cached step."""
    (_, _, remote, answered), events = audited_runs
    assert sequence(events[answered]) == IN_ORDER
    stored = [e for e in events[answered] if e["event"] == "artifact_stored"]
    assert {e["source"] for e in stored} == {"cached"} and {e["cached_from"] for e in stored} == {remote}
    assert [e["status"] for e in events[answered] if e["event"] == "step_finished"] == ["cached", "cached"]
    assert events[answered][-1]["steps"] == {"train": "cached", "evaluate": "cached"}


def test_a_failing_observer_is_logged_and_never_fails_the_run(project, example_plugin: Path) -> None:
    project.write_config(CONFIG)
    project.write("audited.py", PIPELINE)
    (project.path / "audit-dir").mkdir()  # the audit plugin cannot open a folder as its log: every call raises
    done = python(RUNS.replace("remote = audited.run(stack='sub', cache=False)", "remote = fresh"), project.path, example_plugin, env={"FLOWYML_AUDIT_LOG": str(project.path / "audit-dir")})
    assert done.returncode == 0, done.stderr
    assert [line.split()[1] for line in done.stdout.strip().splitlines()[-3:]] == ["completed"] * 3
    assert "plugin example-audit failed in flowyml_run_started (ignored): IsADirectoryError" in done.stderr
    assert "flowyml_run_finished (ignored)" in done.stderr
