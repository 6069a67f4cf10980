"""Several experiment trackers per stack: every tracker gets every call; one failing tracker does not stop the others."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from flowyml import Client
from flowyml.errors import ConfigError
from flowyml.runner.result import TrackerLink
from flowyml.testing import (
    flowyml_project,  # noqa: F401 - a fixture
    load_pipeline,
    tracked_stack,
)
from standins.tensorboard_events import read_scalars

TRACKERS = [{"type": "tensorboard", "log_dir": "tb-logs"}, {"type": "local"}]


def two_trackers(trackers: list[dict[str, Any]] = TRACKERS, **extra: Any) -> dict[str, Any]:
    body = tracked_stack({"type": "local"}, **extra)
    body["experiment_tracker"] = trackers
    return body


def local_metrics(folder: Path, run_id: str) -> dict[str, list[tuple[int | None, float]]]:
    with sqlite3.connect(folder / ".flowyml" / "metadata.db") as conn:
        rows = conn.execute("SELECT key, step, value FROM tracker_metrics WHERE run_id=? ORDER BY rowid", (run_id,)).fetchall()
    got: dict[str, list[tuple[int | None, float]]] = {}
    for key, step, value in rows:
        got.setdefault(key, []).append((step, value))
    return got


def local_status(folder: Path, run_id: str) -> str:
    with sqlite3.connect(folder / ".flowyml" / "metadata.db") as conn:
        return str(conn.execute("SELECT status FROM tracker_runs WHERE run_id=?", (run_id,)).fetchone()[0])


def test_flowyml_tracker_log_metrics_reaches_every_tracker_of_a_list(flowyml_project: Any) -> None:
    folder = flowyml_project({"two": two_trackers()})
    run = load_pipeline(folder).run(stack="two")
    assert run.status == "completed", run.error

    scalars = read_scalars(folder / "tb-logs" / "tracked" / run.run_id)
    assert scalars["loss"] == [(0, 1.0), (1, 0.5), (2, pytest.approx(1 / 3))]
    local = local_metrics(folder, run.run_id)
    assert local["loss"] == [(0, 1.0), (1, 0.5), (2, pytest.approx(1 / 3))]
    assert local["accuracy"] == [(None, 0.75)]
    assert local_status(folder, run.run_id) == "completed"
    started = sorted(e.target for e in run.events if e.action == "tracker" and e.status == "ok")
    assert started == ["local", "tensorboard"]
    logged = [e for e in run.events if e.action == "log" and e.status == "ok" and e.step_name == "evaluate"]
    assert sorted(e.target for e in logged) == ["local", "tensorboard"]


def test_flowyml_tracker_start_run_records_where_each_tracker_shows_the_run(flowyml_project: Any) -> None:
    folder = flowyml_project({"two": two_trackers()})
    run = load_pipeline(folder).run(stack="two")
    assert run.status == "completed", run.error
    run_dir = folder / "tb-logs" / "tracked" / run.run_id
    assert run.tracker_links == [TrackerLink("tensorboard", str(run_dir))]  # the local tracker has no place to show
    assert Client(folder).get_run(run.run_id).tracker_links == run.tracker_links  # read back from the run record
    assert Client(folder).list_runs(steps=False)[0].tracker_links == []  # a listing reads no events


def test_one_failing_tracker_does_not_stop_the_others_with_on_route_error_warn(flowyml_project: Any) -> None:
    folder = flowyml_project({"two": two_trackers(on_route_error="warn")})
    (folder / "tb-logs").write_text("a file where tensorboard wants its folder")
    run = load_pipeline(folder).run(stack="two")
    assert run.status == "completed", run.error

    failed = [e for e in run.events if e.status == "failed"]
    assert failed and {e.target for e in failed} == {"tensorboard"}  # recorded against the tracker that failed
    assert local_metrics(folder, run.run_id)["loss"] == [(0, 1.0), (1, 0.5), (2, pytest.approx(1 / 3))]
    assert local_status(folder, run.run_id) == "completed"
    skipped = {e.target for e in run.events if e.action == "log" and e.status == "skipped"}
    assert skipped == {"tensorboard"}


def test_a_failing_tracker_fails_a_strict_run(flowyml_project: Any) -> None:
    folder = flowyml_project({"two": two_trackers()})
    (folder / "tb-logs").write_text("not a folder")
    run = load_pipeline(folder).run(stack="two")
    assert run.status == "failed"
    assert {s.status for s in run.steps.values()} == {"skipped"}
    assert [e.target for e in run.events if e.status == "failed"] == ["tensorboard"]


def test_stack_show_and_route_plan_list_every_tracker(project) -> None:
    project.write_config(
        "stacks:\n  two:\n    orchestrator: { type: local }\n    artifact_store: { type: local }\n"
        "    experiment_tracker:\n      - { type: tensorboard, log_dir: tb }\n      - { type: local }\n"
        "    artifact_routing:\n      Metrics: { log_to_tracker: true }\nactive_stack: two\n"
    )
    project.write("p.py", "from flowyml import Metrics, pipeline, step\n\n@step\ndef m() -> Metrics:\n    return Metrics({'a': 1})\n\n@pipeline\ndef p() -> None:\n    m()\n")
    shown = project.cli("stack", "show", check=True).stdout
    assert "experiment_tracker  tensorboard" in shown and "experiment_tracker  local" in shown
    assert "tensorboard, local" in shown
    plan = project.cli("route", "plan", "p.py", check=True).stdout
    assert "tensorboard, local" in plan
    checked = project.cli("stack", "check", check=True).stdout
    assert "experiment_tracker tensorboard" in checked and "experiment_tracker local" in checked


def test_an_empty_or_malformed_tracker_list_names_the_fix(project) -> None:
    from flowyml.config.loader import load_project

    project.write_config("stacks:\n  s:\n    orchestrator: { type: local }\n    artifact_store: { type: local }\n    experiment_tracker: []\n")
    with pytest.raises(ConfigError, match="tracker list is empty"):
        load_project().stack("s")
    project.write_config("stacks:\n  s:\n    orchestrator: { type: local }\n    artifact_store: { type: local }\n    experiment_tracker:\n      - { type: local }\n      - mlflow\n")
    with pytest.raises(ConfigError, match=r"experiment_tracker\[1\].*mapping with a `type:`"):
        load_project().stack("s")
