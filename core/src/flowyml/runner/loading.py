"""Reading a stored artifact back through the artifact store that holds it."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from flowyml.errors import ArtifactError
from flowyml.serialization.artifact_io import Expected, read_artifact, read_manifest, verify

if TYPE_CHECKING:
    from flowyml.config.schema import ProjectConfig
    from flowyml.plugins.types import ModelVersion
    from flowyml.runner.result import StoredArtifact
    from flowyml.stacks.stack import Stack


def fetch_and_read(stack: Stack, uri: str, expected: str | Expected | None) -> Any:
    """Fetch the artifact at ``uri`` and read it, verified against ``expected`` (a content hash or a record)."""
    scratch = Path(tempfile.mkdtemp(prefix="flowyml-fetch-"))
    try:
        return read_artifact(stack.artifact_store.fetch(uri, scratch), expected_hash=expected)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def expected_of(artifact: StoredArtifact) -> Expected:
    """What the run record says about a stored artifact: the reader follows it, not the manifest."""
    return Expected(
        content_hash=artifact.content_hash,
        serializer=artifact.serializer,
        python_type=artifact.python_type,
        artifact_type=artifact.artifact_type,
        label=f"{artifact.step_name}.{artifact.output_name} of run {artifact.run_id}",
    )


def read_stored(stack: Stack, artifact: StoredArtifact) -> Any:
    """Read a recorded artifact through ``stack``, verified against its run record before anything is deserialized."""
    return fetch_and_read(stack, artifact.uri, expected_of(artifact))


def check_stored(stack: Stack, artifact: StoredArtifact) -> None:
    """Verify a recorded artifact as :func:`read_stored` does, without deserializing it.

    Its manifest must match the run record (content hash, serializer, types)
    and every file its sha256: an :class:`~flowyml.errors.ArtifactError` (gone),
    :class:`~flowyml.errors.IntegrityError` (edited) or
    :class:`~flowyml.errors.SerializationError` (unreadable here) says why not.
    """
    scratch = Path(tempfile.mkdtemp(prefix="flowyml-check-"))
    try:
        directory = stack.artifact_store.fetch(artifact.uri, scratch)
        verify(directory, read_manifest(directory), expected_of(artifact))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def read_registered(stack: Stack, model: ModelVersion) -> Any:
    """Read a registered model version's artifact, verified against the content hash the registry recorded.

    A version registered without a content hash is read only in formats that cannot run code.
    """
    label = f"model {model.name!r} version {model.version}"
    return fetch_and_read(stack, model.uri, Expected(content_hash=model.content_hash, artifact_type="Model", label=label))


@attrs.frozen
class StackReader:
    """Reads a run's artifacts back through the stack it used, as configured when it ran.

    A run binds its artifacts to one of these, so ``artifact.load()`` does not
    look for flowyml.yaml in whatever the working directory is by then.
    """

    project: ProjectConfig
    stack_name: str

    def __call__(self, artifact: StoredArtifact) -> Any:
        from flowyml.metadata.store import MetadataStore
        from flowyml.stacks.stack import open_stack

        stack = open_stack(self.project, self.stack_name)
        stack.attach_metadata(MetadataStore.of(self.project))
        try:
            return read_stored(stack, artifact)
        finally:
            stack.close()


def stack_for_run(run_id: str) -> Stack:
    from flowyml.config.loader import load_project
    from flowyml.metadata.store import MetadataStore
    from flowyml.stacks.stack import open_stack

    project = load_project()
    run = MetadataStore.of(project).get_run(run_id)
    if run is None:
        raise ArtifactError(f"run {run_id} is not in this project's metadata store")
    return open_stack(project, run["stack_name"])


def load_stored(artifact: StoredArtifact, stack: Stack | None = None) -> Any:
    """Load ``artifact`` through ``stack`` (default: the stack its run used)."""
    return read_stored(stack or stack_for_run(artifact.run_id), artifact)
