"""What a run returns: its steps, artifacts, routing events and decisions."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from flowyml.errors import ArtifactError, FlowymlError, StepFailedError

if TYPE_CHECKING:
    from flowyml.plugins.types import Manifest
    from flowyml.runner.attempts import Attempt


class Lineage(Protocol):
    """Where an artifact's lineage is read from (a :class:`flowyml.Client`)."""

    def producer_of(self, artifact: StoredArtifact) -> StepRun: ...

    def consumers_of(self, artifact: StoredArtifact) -> list[StepRun]: ...


@attrs.define
class StoredArtifact:
    """An artifact a step produced: where it is and what it is."""

    artifact_id: str
    run_id: str
    step_name: str
    output_name: str
    artifact_type: str
    python_type: str | None
    uri: str
    content_hash: str
    size: int | None
    serializer: str | None
    info: dict[str, Any] = attrs.field(factory=dict)
    _loader: Callable[[StoredArtifact], Any] | None = attrs.field(default=None, repr=False, eq=False)
    _lineage: Lineage | None = attrs.field(default=None, repr=False, eq=False)

    def load(self) -> Any:
        """The stored value, read back (and verified against its recorded sha256)."""
        if self._loader is None:
            raise ArtifactError(
                f"artifact {self.artifact_id} ({self.step_name}.{self.output_name} of run {self.run_id}) is not bound to a stack to read it from",
                hint=f"read it through its run (run.load(...)) or flowyml.Client().get_artifact({self.artifact_id!r}).load()",
            )
        return self._loader(self)

    @property
    def producer(self) -> StepRun:
        """The step run that made this artifact (read from the metadata store)."""
        return self._lineage_source().producer_of(self)

    @property
    def consumers(self) -> list[StepRun]:
        """The step runs, of any run, that read this artifact as an input."""
        return self._lineage_source().consumers_of(self)

    def _lineage_source(self) -> Lineage:
        if self._lineage is None:
            from flowyml.client import Client

            self._lineage = Client()
        return self._lineage

    def to_row(self) -> dict[str, Any]:
        """The metadata-store row of this artifact (every public field; ``info`` copied)."""
        return {
            "artifact_id": self.artifact_id, "run_id": self.run_id, "step_name": self.step_name, "output_name": self.output_name,
            "artifact_type": self.artifact_type, "python_type": self.python_type, "uri": self.uri,
            "content_hash": self.content_hash, "size": self.size, "serializer": self.serializer, "info": copy.deepcopy(self.info),
        }

    @classmethod
    def from_manifest(cls, manifest: Manifest, *, artifact_id: str, run_id: str, step_name: str, output_name: str) -> StoredArtifact:
        """The record of an artifact the store just committed."""
        return cls(
            artifact_id=artifact_id,
            run_id=run_id,
            step_name=step_name,
            output_name=output_name,
            artifact_type=manifest.artifact_type,
            python_type=manifest.python_type,
            uri=manifest.uri,
            content_hash=manifest.content_hash,
            size=manifest.size,
            serializer=manifest.serializer,
            info=dict(manifest.info),
        )

    @classmethod
    def from_row(cls, row: Any) -> StoredArtifact:
        import json

        return cls(
            artifact_id=row["artifact_id"],
            run_id=row["run_id"],
            step_name=row["step_name"],
            output_name=row["output_name"],
            artifact_type=row["artifact_type"],
            python_type=row["python_type"],
            uri=row["uri"],
            content_hash=row["content_hash"],
            size=row["size"],
            serializer=row["serializer"],
            info=json.loads(row["info"] or "{}"),
        )


@attrs.define
class RouteEvent:
    """One routing action (store, log, register, deploy, decision) and how it went."""

    action: str
    status: str  # ok | skipped | failed
    detail: str
    step_name: str | None = None
    artifact_id: str | None = None
    target: str | None = None


#: The route-event action that records where a tracker's run can be seen (its detail: the URL or folder).
TRACKER_LINK = "tracker_link"


@attrs.frozen
class TrackerLink:
    """Where one experiment tracker's run of a pipeline run can be seen."""

    #: The tracker's YAML ``type`` (``mlflow``, ``wandb``, ``tensorboard``, ...).
    tracker: str
    #: The URL of the tracker's page for the run, or a local folder holding it.
    location: str

    @property
    def is_url(self) -> bool:
        """Is ``location`` a web page (``http://`` or ``https://``) rather than a folder?"""
        return self.location.startswith(("http://", "https://"))


@attrs.define
class StepRun:
    """One step of a run: its status, timing, the artifacts it read and made, and why it failed."""

    name: str
    status: str  # completed | cached | failed | skipped
    started_at: float | None = None
    ended_at: float | None = None
    #: The one-line message of a failed step (the reason of a skipped one).
    error: str | None = None
    outputs: dict[str, StoredArtifact] = attrs.field(factory=dict)
    exception: BaseException | None = attrs.field(default=None, repr=False, eq=False)
    #: Input name -> the artifact the step consumed.
    inputs: dict[str, StoredArtifact] = attrs.field(factory=dict)
    #: The full traceback text of a failed step.
    traceback: str | None = attrs.field(default=None, repr=False)
    run_id: str | None = None
    #: Each attempt of a step that has retries or a timeout (:class:`flowyml.runner.attempts.Attempt`); empty otherwise.
    attempts: list[Attempt] = attrs.field(factory=list)

    @property
    def duration(self) -> float | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.started_at

    @property
    def cached(self) -> bool:
        return self.status == "cached"

    @property
    def output(self) -> StoredArtifact:
        if len(self.outputs) != 1:
            raise ArtifactError(f"step {self.name!r} has outputs {sorted(self.outputs)}: use .outputs[name]")
        return next(iter(self.outputs.values()))


@attrs.define
class PipelineRun:
    """The result of ``pipeline.run()``."""

    run_id: str
    pipeline_name: str
    stack_name: str
    status: str
    steps: dict[str, StepRun] = attrs.field(factory=dict)
    events: list[RouteEvent] = attrs.field(factory=list)
    error: str | None = None
    started_at: float | None = None
    ended_at: float | None = None
    #: The pipeline parameters the run was started with.
    params: dict[str, Any] = attrs.field(factory=dict)
    #: Who started the run (the login name) and on which machine; None for runs recorded before FlowyML kept them.
    user: str | None = None
    host: str | None = None
    _values: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @property
    def success(self) -> bool:
        return self.status == "completed"

    @property
    def artifacts(self) -> list[StoredArtifact]:
        return [a for s in self.steps.values() for a in s.outputs.values()]

    @property
    def tracker_links(self) -> list[TrackerLink]:
        """Where each tracker that recorded one shows this run (a URL or a folder), in the order they started.

        Read from the run's route events: empty for a run listed with ``steps=False``.
        """
        return [TrackerLink(e.target or "", e.detail) for e in self.events if e.action == TRACKER_LINK and e.status == "ok" and e.detail]

    @property
    def decisions(self) -> list[RouteEvent]:
        """Deployment decisions made for the run's models (deployed or not, and why)."""
        return [e for e in self.events if e.action == "decision"]

    def artifact(self, step: str, output: str | None = None) -> StoredArtifact:
        try:
            step_run = self.steps[step]
        except KeyError:
            raise ArtifactError(f"run {self.run_id} has no step {step!r}; steps: {', '.join(self.steps)}") from None
        if output is None:
            return step_run.output
        try:
            return step_run.outputs[output]
        except KeyError:
            raise ArtifactError(f"step {step!r} has no output {output!r}; outputs: {', '.join(step_run.outputs)}") from None

    def load(self, step: str, output: str | None = None) -> Any:
        """The value a step produced (from memory when this process made it, else from the store)."""
        artifact = self.artifact(step, output)
        if artifact.artifact_id in self._values:
            return self._values[artifact.artifact_id]
        return artifact.load()

    def raise_for_status(self) -> PipelineRun:
        """Raise :class:`StepFailedError` (chained to the step's exception) when the run failed."""
        if self.success:
            return self
        for step in self.steps.values():
            if step.status == "failed":
                raise StepFailedError(f"run {self.run_id}: step {step.name!r} failed: {step.error}") from step.exception
        raise FlowymlError(f"run {self.run_id} failed: {self.error}")

    def __repr__(self) -> str:
        return f"<PipelineRun {self.run_id} {self.pipeline_name} on {self.stack_name}: {self.status}>"
