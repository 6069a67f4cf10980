
"""End to end: a pipeline on a stack whose experiment tracker is wandb (offline), read back from the run file."""

from __future__ import annotations

from typing import Any

import pytest
from wandb_readback import metric_histories, offline_run

from flowyml.errors import ConfigError
from flowyml.runner.result import TrackerLink
from flowyml.testing import (
    flowyml_project,  # noqa: F401 - a fixture (tests take it as a parameter)
    load_pipeline,
    tracked_stack,
)


def test_pipeline_run_is_one_wandb_run(flowyml_project: Any, wandb_env: Any) -> None:
    folder = flowyml_project({"wb": tracked_stack({"type": "wandb", "project": "flowyml-e2e", "mode": "offline", "tags": ["e2e"]})})
    run = load_pipeline(folder).run(stack="wb")
    assert run.status == "completed", run.error

    got = offline_run(folder, run.run_id)  # default dir: the project folder
    assert (got.project, got.group, got.job_type) == ("flowyml-e2e", "tracked", "pipeline")
    assert got.tags == ["pipeline:tracked", "stack:wb", "e2e"] and run.run_id in got.notes
    assert got.config == {"learning_rate": 0.01, "epochs": 3, "optimizer.name": "adam", "optimizer.betas": "[0.9, 0.99]"}
    histories = metric_histories(got)
    assert histories["loss"] == [(0, 1.0), (1, 0.5), (2, pytest.approx(1 / 3))]
    assert histories["lr"] == [(0, 0.01), (1, 0.01), (2, 0.01)]
    assert histories["accuracy"] == [(None, 0.75)] and histories["report.f1"] == [(None, 0.7)]
    assert got.summary["evaluate/metadata"] == {"model_version": "1.0.0"}
    assert got.summary["flowyml/steps/epoch_2"] == "loss, lr"
    assert got.summary["flowyml/status"] == "completed" and got.exit_code == 0
    assert run.tracker_links == [TrackerLink("wandb", str(got.path.parent))]  # the offline run's folder (`wandb sync` it)


def test_failed_run_exits_with_1(flowyml_project: Any, wandb_env: Any) -> None:
    folder = flowyml_project({"wb": tracked_stack({"type": "wandb", "mode": "offline", "dir": "wandb-runs"})})
    pipeline = load_pipeline(folder)

    def boom() -> None:
        raise RuntimeError("training diverged")

    pipeline.fn.__globals__["HOOKS"]["train_model"] = boom
    run = pipeline.run(stack="wb")
    assert run.status == "failed"
    got = offline_run(folder / "wandb-runs", run.run_id)
    assert got.exit_code == 1 and got.summary["flowyml/status"] == "failed"
    assert [s for s, _ in metric_histories(got)["loss"]] == [0, 1, 2]


def test_online_without_a_key_is_a_clear_error(flowyml_project: Any, wandb_env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """No account: wandb refuses to start; the run fails with the fix, and nothing is sent anywhere."""
    monkeypatch.delenv("WANDB_MODE")
    folder = flowyml_project({"wb": tracked_stack({"type": "wandb", "mode": "online"})})
    run = load_pipeline(folder).run(stack="wb")
    assert run.status == "failed"
    failure = next(e for e in run.events if e.status == "failed")
    assert "W&B could not start a online run" in failure.detail and "wandb login" in failure.detail


def test_bad_mode_names_the_yaml_line(flowyml_project: Any, wandb_env: Any) -> None:
    folder = flowyml_project({"wb": tracked_stack({"type": "wandb", "mode": "offlne"})})
    with pytest.raises(ConfigError, match=r"flowyml.yaml:\d+ stacks.wb.experiment_tracker.mode: unknown W&B mode 'offlne'"):
        load_pipeline(folder).run(stack="wb")
