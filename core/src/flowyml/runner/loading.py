"""Reading a stored artifact back through the artifact store that holds it."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowyml.errors import ArtifactError
from flowyml.serialization.artifact_io import read_artifact

if TYPE_CHECKING:
    from flowyml.runner.result import StoredArtifact
    from flowyml.stacks.stack import Stack


def fetch_and_read(stack: Stack, uri: str, content_hash: str | None) -> Any:
    scratch = Path(tempfile.mkdtemp(prefix="flowyml-fetch-"))
    try:
        return read_artifact(stack.artifact_store.fetch(uri, scratch), expected_hash=content_hash)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def stack_for_run(run_id: str) -> Stack:
    from flowyml.config.loader import load_project
    from flowyml.metadata.store import MetadataStore
    from flowyml.stacks.stack import open_stack

    project = load_project()
    run = MetadataStore.for_project(project.project_dir).get_run(run_id)
    if run is None:
        raise ArtifactError(f"run {run_id} is not in this project's metadata store")
    return open_stack(project, run["stack_name"])


def load_stored(artifact: StoredArtifact, stack: Stack | None = None) -> Any:
    """Load ``artifact`` through ``stack`` (default: the stack its run used)."""
    return fetch_and_read(stack or stack_for_run(artifact.run_id), artifact.uri, artifact.content_hash)
