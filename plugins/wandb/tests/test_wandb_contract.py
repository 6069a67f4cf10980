"""flowyml-wandb passes the tracker contract suite; what it logged is read from the offline run file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from wandb_readback import contract_view, offline_run

from flowyml.plugins.types import RunInfo
from flowyml.stacks.stack import Stack
from flowyml.testing import TrackerContract


class TestWandbTracker(TrackerContract):
    @pytest.fixture
    def component_config(self, wandb_env: Any, tmp_path: Path) -> dict[str, Any]:
        self.dir = tmp_path / "wandb-files"
        return {"type": "wandb", "project": "contract", "mode": "offline", "dir": str(self.dir)}

    def read_back(self, stack: Stack, run: RunInfo) -> dict[str, Any]:
        got = offline_run(self.dir, run.run_id)
        assert got.project == "contract" and got.group == "contract_pipeline" and got.job_type == "pipeline"
        assert set(got.tags) >= {"pipeline:contract_pipeline", f"stack:{stack.name}"}
        assert got.summary["evaluate/metadata"] == {"model_version": "1.0"}
        assert got.summary["flowyml/steps/train"] == "loss" and got.summary["flowyml/status"] == "completed"
        return contract_view(got)


class TestWandbTrackerStepPrefix(TrackerContract):
    """``prefix_step_name: true``: keys become ``<step>/<key>``."""

    @pytest.fixture
    def component_config(self, wandb_env: Any, tmp_path: Path) -> dict[str, Any]:
        self.dir = tmp_path / "wandb-files"
        return {"type": "wandb", "project": "contract", "mode": "offline", "dir": str(self.dir), "prefix_step_name": True}

    def read_back(self, stack: Stack, run: RunInfo) -> dict[str, Any]:
        view = contract_view(offline_run(self.dir, run.run_id))
        assert set(view["metrics"]) == {"train/loss", "evaluate/accuracy"}
        view["metrics"] = {key.split("/", 1)[1]: points for key, points in view["metrics"].items()}
        return view
