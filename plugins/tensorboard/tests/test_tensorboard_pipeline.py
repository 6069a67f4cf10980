
"""End to end: a pipeline on a stack whose experiment tracker is tensorboard, read back from the event files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tensorboard_readback import texts

from flowyml.errors import ConfigError
from flowyml.runner.result import TrackerLink
from flowyml.testing import (
    flowyml_project,  # noqa: F401 - a fixture (tests take it as a parameter)
    load_pipeline,
    tracked_stack,
)
from standins.tensorboard_events import read_hparam_sessions, read_scalars


def session_status(run_dir: Path) -> int:
    """The hparams session-end status (1 success, 2 failure) recorded in the run directory."""
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    acc = event_accumulator.EventAccumulator(str(run_dir))
    acc.Reload()
    content = acc.PluginTagToContent("hparams")["_hparams_/session_end_info"]
    return int(plugin_data_pb2.HParamsPluginData.FromString(content).session_end_info.status)


def test_pipeline_run_is_one_tensorboard_run(flowyml_project: Any) -> None:
    folder = flowyml_project({"tb": tracked_stack({"type": "tensorboard", "log_dir": "tb-logs"})})
    run = load_pipeline(folder).run(stack="tb")
    assert run.status == "completed", run.error

    run_dir = folder / "tb-logs" / "tracked" / run.run_id
    assert run.tracker_links == [TrackerLink("tensorboard", str(run_dir))]  # `tensorboard --logdir` it
    scalars = read_scalars(run_dir)
    assert scalars["loss"] == [(0, 1.0), (1, 0.5), (2, pytest.approx(1 / 3))]
    assert [s for s, _ in scalars["lr"]] == [0, 1, 2]
    assert scalars["accuracy"] == [(0, 0.75)] and scalars["report.f1"] == [(0, pytest.approx(0.7))]
    sessions = read_hparam_sessions(run_dir)
    assert len(sessions) == 1 and sessions[0].run_dir == run_dir
    assert sessions[0].hparams == {"learning_rate": 0.01, "epochs": 3.0, "optimizer.name": "adam", "optimizer.betas": "[0.9, 0.99]"}
    assert session_status(run_dir) == 1  # STATUS_SUCCESS
    written = texts(run_dir)
    assert written["flowyml/status"] == ["completed"] and "model_version | 1.0.0" in written["evaluate/metadata"][0]
    assert f"run id | {run.run_id}" in written["flowyml/run"][0] and "stack | tb" in written["flowyml/run"][0]


def test_failed_run_is_a_failed_hparams_session(flowyml_project: Any) -> None:
    folder = flowyml_project({"tb": tracked_stack({"type": "tensorboard", "log_dir": "tb-logs"})})
    pipeline = load_pipeline(folder)

    def boom() -> None:
        raise RuntimeError("training diverged")

    pipeline.fn.__globals__["HOOKS"]["train_model"] = boom
    run = pipeline.run(stack="tb")
    assert run.status == "failed"
    run_dir = folder / "tb-logs" / "tracked" / run.run_id
    assert session_status(run_dir) == 2  # STATUS_FAILURE
    assert texts(run_dir)["flowyml/status"] == ["failed"]
    assert [s for s, _ in read_scalars(run_dir)["loss"]] == [0, 1, 2]


def test_unwritable_log_dir_is_a_clear_error(flowyml_project: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    folder = flowyml_project({"tb": tracked_stack({"type": "tensorboard", "log_dir": str(blocker)})})
    run = load_pipeline(folder).run(stack="tb")
    assert run.status == "failed"
    failure = next(e for e in run.events if e.status == "failed")
    assert "cannot write event files" in failure.detail and "log_dir" in failure.detail


def test_bad_flush_secs_names_the_yaml_line(flowyml_project: Any) -> None:
    folder = flowyml_project({"tb": tracked_stack({"type": "tensorboard", "flush_secs": 0})})
    with pytest.raises(ConfigError, match=r"flowyml.yaml:\d+ stacks.tb.experiment_tracker.flush_secs"):
        load_pipeline(folder).run(stack="tb")
