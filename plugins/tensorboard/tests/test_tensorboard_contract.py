"""flowyml-tensorboard passes the tracker contract suite; the event files are read back with TensorBoard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tensorboard_readback import contract_view, texts

from flowyml.plugins.types import RunInfo
from flowyml.stacks.stack import Stack
from flowyml.testing import TrackerContract


class TestTensorboardTracker(TrackerContract):
    @pytest.fixture
    def component_config(self, tmp_path: Path) -> dict[str, Any]:
        self.log_dir = tmp_path / "tb"
        return {"type": "tensorboard", "log_dir": str(self.log_dir)}

    def read_back(self, stack: Stack, run: RunInfo) -> dict[str, Any]:
        run_dir = self.log_dir / run.pipeline_name / run.run_id
        written = texts(run_dir)
        assert "model_version | 1.0" in written["evaluate/metadata"][0]
        assert "learning_rate | 0.001" in written["train/parameters"][0]
        assert run.run_id in written["flowyml/run"][0]
        return contract_view(run_dir)


class TestTensorboardTrackerStepPrefix(TrackerContract):
    @pytest.fixture
    def component_config(self, tmp_path: Path) -> dict[str, Any]:
        self.log_dir = tmp_path / "tb"
        return {"type": "tensorboard", "log_dir": str(self.log_dir), "prefix_step_name": True}

    def read_back(self, stack: Stack, run: RunInfo) -> dict[str, Any]:
        view = contract_view(self.log_dir / run.pipeline_name / run.run_id)
        assert set(view["metrics"]) == {"train/loss", "evaluate/accuracy"}
        view["metrics"] = {key.split("/", 1)[1]: points for key, points in view["metrics"].items()}
        return view
