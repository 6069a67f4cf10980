"""Helpers of the flowyml-wandb end-to-end tests: a project folder with a flowyml.yaml and the pipeline."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

HERE = Path(__file__).parent
TRACKED_ROUTING = {"Metrics": {"log_to_tracker": True}, "Parameters": {"log_to_tracker": True}}


def tracked_stack(tracker: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "orchestrator": {"type": "local", "max_parallel_steps": 1},
        "artifact_store": {"type": "local", "path": "./artifacts"},
        "experiment_tracker": tracker,
        "artifact_routing": {**TRACKED_ROUTING, **extra.pop("routing", {})},
        **extra,
    }


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, Any]], Path]:
    """``project(stacks)`` writes flowyml.yaml and the pipeline into a folder and enters it."""

    def make(stacks: dict[str, Any]) -> Path:
        folder = tmp_path / "project"
        folder.mkdir(exist_ok=True)
        (folder / "flowyml.yaml").write_text(yaml.safe_dump({"stacks": stacks}, sort_keys=False))
        shutil.copy(HERE / "wandb_tracked_pipeline.py", folder / "pipelines.py")
        monkeypatch.chdir(folder)
        return folder

    return make


def load_pipeline(folder: Path, name: str = "tracked") -> Any:
    from flowyml.runner.targets import load_target

    return load_target(f"{folder / 'pipelines.py'}:{name}")
