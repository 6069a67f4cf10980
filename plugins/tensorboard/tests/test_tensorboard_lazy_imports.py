"""Lazy loading: tensorboardX is imported only when the tensorboard tracker starts a run, never by a stack that does not name it."""

from __future__ import annotations

from pathlib import Path

from flowyml.testing import imported_modules, tracked_stack

VENDOR = ("mlflow", "wandb", "tensorboardX")
PLUGINS = ("flowyml_mlflow", "flowyml_wandb", "flowyml_tensorboard")
STACKS = {
    "local": tracked_stack({"type": "local"}),  # Metrics and Parameters logged to the local tracker
    "ml": {"orchestrator": {"type": "local"}, "artifact_store": {"type": "local"},
           "experiment_tracker": {"type": "tensorboard"}},
}


def loaded_modules(project: Path, stack: str) -> set[str]:
    """A local run on the local stack; only building the stack (as a run does first) on the others."""
    return imported_modules(project, STACKS, stack, run_pipeline=stack == "local", prefixes=[*VENDOR, *PLUGINS])


def test_a_local_run_imports_no_tracker_sdk(tmp_path: Path) -> None:
    assert loaded_modules(tmp_path, "local") == set()


def test_building_a_tensorboard_stack_imports_the_plugin_but_not_tensorboardX(tmp_path: Path) -> None:
    loaded = loaded_modules(tmp_path, "ml")
    assert "flowyml_tensorboard.tracker" in loaded
    assert not [m for m in loaded if m.split(".")[0] in VENDOR]
    assert "flowyml_tensorboard.session" not in loaded
