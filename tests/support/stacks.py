"""Opening a test project's stack in process, as a run would (for tests that call a store directly)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def active_stack(project_dir: Path) -> Any:
    """The stack a run in ``project_dir`` would use (its active stack, else the first one); close it after use."""
    from flowyml.config.loader import load_project
    from flowyml.stacks.stack import open_stack

    config = load_project(project_dir)
    return open_stack(config, config.active_stack or next(iter(config.stacks)))
