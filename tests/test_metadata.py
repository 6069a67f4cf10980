"""The metadata store as users read it: a failed run's error, run order and limits, run id prefixes."""

from __future__ import annotations

import re

import pytest

from flowyml import pipeline, step
from flowyml.metadata.store import MetadataStore

CONFIG = "stacks:\n  s:\n    orchestrator: { type: local }\n    artifact_store: { type: local }\nactive_stack: s\n"


@step(cache=False)
def number(i: int = 0) -> int:
    return i


@pipeline
def counted(i: int = 0) -> None:
    number(i)


@step
def explode() -> int:
    raise ValueError("boom: the input table is empty")


@pipeline
def failing() -> None:
    explode()


@pytest.fixture
def db(project) -> MetadataStore:
    project.write_config(CONFIG)
    return MetadataStore.for_project(project.path)


def test_a_failed_runs_error_is_stored_and_shown(project, db: MetadataStore) -> None:
    """Bug caught: finish_run dropping ``error`` (the run says failed, nobody can see why)."""
    run = failing.run()
    assert run.status == "failed"
    row = db.get_run(run.run_id)
    assert row["status"] == "failed" and row["ended_at"] >= row["started_at"]
    assert "boom: the input table is empty" in row["error"]
    step_row = {s["step_name"]: s for s in db.steps_of(run.run_id)}["explode"]
    assert step_row["status"] == "failed" and "ValueError: boom: the input table is empty" in step_row["error"]
    shown = project.cli("runs", "show", run.run_id, check=True).stdout
    assert re.search(r"status:\s+failed", shown)
    assert re.search(r"error:\s+.*boom: the input table is empty", shown)
    assert re.search(r"explode\s+failed\s+.*ValueError: boom: the input table is empty", shown)


def test_a_completed_run_has_no_error(project, db: MetadataStore) -> None:
    run = counted.run()
    row = db.get_run(run.run_id)
    assert row["status"] == "completed" and row["error"] is None
    assert "error:" not in project.cli("runs", "show", run.run_id, check=True).stdout


def test_runs_are_listed_newest_first_and_limited(project, db: MetadataStore) -> None:
    """Bugs caught: ascending order (the oldest runs shown), the limit ignored or off by one."""
    ids = [counted.run(i=i).run_id for i in range(4)]
    assert [r["run_id"] for r in db.list_runs(limit=20)] == ids[::-1]
    assert [r["run_id"] for r in db.list_runs(limit=2)] == [ids[3], ids[2]]
    assert [r["run_id"] for r in db.list_runs(limit=1)] == [ids[3]]
    listed = project.cli("runs", "list", "-n", "2", check=True).stdout
    shown = re.findall(r"^(\d{8}-\d{6}-[0-9a-f]+)\s", listed, flags=re.M)
    assert shown == [ids[3], ids[2]]
    assert re.findall(r"^(\d{8}-\d{6}-[0-9a-f]+)\s", project.cli("runs", "list", check=True).stdout, flags=re.M) == ids[::-1]


def test_runs_list_filters_by_pipeline(project, db: MetadataStore) -> None:
    ok = counted.run().run_id
    bad = failing.run().run_id
    assert [r["run_id"] for r in db.list_runs(pipeline="counted")] == [ok]
    assert [r["run_id"] for r in db.list_runs(pipeline="failing")] == [bad]
    assert [r["run_id"] for r in db.list_runs(pipeline="counted", limit=0)] == []
    listed = project.cli("runs", "list", "--pipeline", "failing", check=True).stdout
    assert bad in listed and ok not in listed


def test_runs_show_accepts_a_unique_prefix(project, db: MetadataStore) -> None:
    """Bugs caught: a prefix that matches nothing, or matching the wrong end of the id."""
    first, second = counted.run(i=1).run_id, counted.run(i=2).run_id
    prefix = first[: next(i for i in range(len(first)) if first[: i + 1] != second[: i + 1]) + 1]
    assert db.get_run(prefix)["run_id"] == first
    assert db.get_run(first)["run_id"] == first
    shown = project.cli("runs", "show", prefix, check=True).stdout
    assert shown.startswith(f"Run {first}\n")
    assert db.get_run(first[-6:]) is None  # a suffix is not a prefix


def test_an_ambiguous_prefix_picks_no_run(project, db: MetadataStore) -> None:
    """Bug caught: an ambiguous prefix silently showing one of the runs."""
    first, second = counted.run(i=1).run_id, counted.run(i=2).run_id
    common = first[:8]  # the date: shared by both
    assert second.startswith(common)
    assert db.get_run(common) is None
    done = project.cli("runs", "show", common, check=False)
    assert f"Run {first}" not in done.stdout and f"Run {second}" not in done.stdout
    assert "Traceback" not in done.stderr


def test_an_unknown_run_is_a_clear_error(project, db: MetadataStore) -> None:
    assert db.get_run("nope") is None
    done = project.cli("runs", "show", "nope", check=False)
    assert "no run 'nope'" in done.stderr and "flowyml runs list" in done.stderr and "Traceback" not in done.stderr
