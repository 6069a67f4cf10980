"""Building a real stack from a component configuration, for tests."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from flowyml.config.loader import load_project
from flowyml.metadata.store import MetadataStore
from flowyml.stacks.stack import Stack

MARKER = "# written by flowyml.testing\n"


def write_config(project_dir: Path, stacks: Mapping[str, Any], active: str | None = None) -> Path:
    """Write a flowyml.yaml with ``stacks`` into ``project_dir`` and return its path."""
    data: dict[str, Any] = {"stacks": dict(stacks)}
    if active:
        data["active_stack"] = active
    path = Path(project_dir) / "flowyml.yaml"
    if path.exists() and not path.read_text(encoding="utf-8").startswith(MARKER):
        raise FileExistsError(f"{path} exists and was not written by flowyml.testing; give the test its own folder (tmp_path)")
    path.write_text(MARKER + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def make_stack(project_dir: Path, components: Mapping[str, Any], name: str = "contract") -> Stack:
    """A built :class:`Stack` named ``name`` with ``components`` (kind -> {type, options}).

    A local orchestrator and artifact store are added when not given.
    """
    body = {"orchestrator": {"type": "local"}, "artifact_store": {"type": "local", "path": str(Path(project_dir) / "artifacts")}}
    body.update(components)
    config = write_config(project_dir, {name: body}, active=name)
    project = load_project(config.parent)
    stack = Stack(project, project.stack(name))
    stack.attach_metadata(MetadataStore.of(project))
    stack.plugin_manager  # noqa: B018 - build now, so option errors surface in the fixture
    return stack
