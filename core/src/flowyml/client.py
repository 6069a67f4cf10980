"""The read side of FlowyML from Python: past runs, their steps and artifacts, lineage and models.

    from flowyml import Client

    client = Client()                                   # the project of the current folder
    run = client.get_run("latest")                      # a full run id, a unique prefix, or "latest"
    model = run.steps["train"].outputs["output"].load()  # read back from the run's store, sha256-verified
    art = client.get_artifact("8fabeaa5")               # an id or a unique prefix
    art.producer, art.consumers                         # lineage: the step runs that made and read it
    mv = client.get_model("fraud_detector")             # through the stack's model registry
    mv.load()                                           # the model object the version points to

Everything is read from the project's metadata store (``.flowyml/metadata.db``, or the
database ``metadata.url`` in flowyml.yaml names);
artifact values are fetched through the artifact store of the stack the run
used, with the integrity checks every load has. Backends are imported only
when a value is loaded or a registry is asked.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import attrs

from flowyml.errors import ArtifactError, RunNotFoundError
from flowyml.metadata import queries
from flowyml.metadata.status import effective_status, effective_step_status
from flowyml.plugins.types import ModelVersion
from flowyml.runner.attempts import Attempt
from flowyml.runner.result import PipelineRun, RouteEvent, StepRun, StoredArtifact

if TYPE_CHECKING:
    from flowyml.config.schema import ProjectConfig
    from flowyml.metadata.store import MetadataStore, Row
    from flowyml.stacks.stack import Stack

__all__ = ["Client", "LoadableModelVersion"]


@attrs.frozen
class LoadableModelVersion(ModelVersion):
    """A :class:`~flowyml.plugins.types.ModelVersion` that can load the model it points to."""

    _client: Client | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)
    _registry_stack: str | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)

    def load(self) -> Any:
        """The model object (e.g. the fitted estimator) stored at this version's ``uri``, hash-verified."""
        if self._client is None:
            raise ArtifactError(f"{self.name} version {self.version} was not read through a flowyml.Client")
        return self._client.load_model(self)


class Client:
    """Reads one project's runs, artifacts and models.

    ``Client()`` is the project of the current folder (the folder holding
    flowyml.yaml, found upwards like git); ``Client(project_dir=...)`` another
    one. A client keeps the stacks it opened for loading; :meth:`close` them
    (or use ``with Client() as client:``) when done.
    """

    def __init__(self, project_dir: str | os.PathLike[str] | None = None) -> None:
        from flowyml.config.loader import load_project

        start = Path(project_dir).expanduser().resolve() if project_dir is not None else None
        self._project: ProjectConfig = load_project(start)
        #: The project folder: where flowyml.yaml and .flowyml/ are.
        self.project_dir: Path = self._project.project_dir if self._project.file else (start or Path.cwd().resolve())
        self._db: MetadataStore | None = None
        self._stacks: dict[str, Stack] = {}

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the stacks this client opened to load artifacts."""
        for stack in self._stacks.values():
            stack.close()
        self._stacks.clear()

    def __repr__(self) -> str:
        return f"<flowyml.Client {self.project_dir}>"

    # -- the metadata store ------------------------------------------------------------------

    @property
    def config_file(self) -> Path | None:
        """The flowyml.yaml this client uses (None when the project has none: the embedded local stack)."""
        return self._project.file

    @property
    def metadata(self) -> MetadataStore:
        """The project's metadata store (created empty when the project has never run)."""
        if self._db is None:
            from flowyml.metadata.store import MetadataStore

            self._db = MetadataStore.for_project(self.project_dir, self._project.metadata.resolve(self.project_dir))
        return self._db

    # -- runs ----------------------------------------------------------------------------------

    def get_run(self, run: str = queries.LATEST, *, pipeline: str | None = None) -> PipelineRun:
        """The run ``run`` names: a full run id, a unique prefix of one, or ``"latest"``.

        ``pipeline`` narrows the search to that pipeline's runs. Raises
        :class:`~flowyml.errors.RunNotFoundError` for an unknown id, or an
        ambiguous prefix (listing the candidates).
        """
        run_id = queries.resolve_run_id(self.metadata, run, pipeline)
        return self._build_run(queries.run_row(self.metadata, run_id))

    def list_runs(
        self, pipeline: str | None = None, status: str | None = None, limit: int | None = 50, offset: int = 0, *, steps: bool = True
    ) -> list[PipelineRun]:
        """Runs, newest first: of ``pipeline`` only, in ``status`` only (``completed``, ``failed``, ...), at most ``limit``.

        ``offset`` skips that many of the newest first (a page: ``limit=50, offset=100``).
        ``steps=False`` reads only the run records (their ``steps`` and ``events``
        are left empty): a listing of many runs, one query.

        A pipeline name that has no run at all raises
        :class:`~flowyml.errors.RunNotFoundError` naming the pipelines there are.
        """
        rows = queries.list_run_rows(self.metadata, pipeline=pipeline, status=status, limit=limit, offset=offset)
        if not rows and pipeline and pipeline not in queries.pipeline_names(self.metadata):
            raise queries.no_runs_error(self.metadata, pipeline)
        return [self._build_run(row, steps=steps) for row in rows]

    def pipeline_names(self) -> list[str]:
        """The pipelines that have at least one run."""
        return queries.pipeline_names(self.metadata)

    def get_step(self, run_id: str, step: str) -> StepRun:
        """Step ``step`` of run ``run_id`` (a full id)."""
        row = queries.step_row(self.metadata, run_id, step)
        if row is None:
            names = [r["step_name"] for r in queries.step_rows(self.metadata, run_id)]
            raise RunNotFoundError(f"run {run_id} has no step {step!r}; steps: {', '.join(names) or '(none)'}")
        outputs = self._artifacts_by_step(run_id, step)
        return self._build_step(row, outputs.get(step, {}), attempts=self._attempts_by_step(run_id, step).get(step, []))

    def _build_run(self, row: Row, *, steps: bool = True) -> PipelineRun:
        run_id = row["run_id"]
        status = effective_status(row)  # a run whose process died is "crashed"
        if not steps:
            return PipelineRun(
                run_id=run_id, pipeline_name=row["pipeline_name"], stack_name=row["stack_name"], status=status,
                error=row["error"], started_at=row["started_at"], ended_at=row["ended_at"], params=queries.run_params(row),
                user=row["user"], host=row["host"],
            )
        outputs = self._artifacts_by_step(run_id)
        attempts = self._attempts_by_step(run_id)
        built = {
            s["step_name"]: self._build_step(s, outputs.get(s["step_name"], {}), run_status=status, attempts=attempts.get(s["step_name"], []))
            for s in queries.step_rows(self.metadata, run_id)
        }
        events = [
            RouteEvent(
                action=e["action"], status=e["status"], detail=e["detail"] or "", step_name=e["step_name"],
                artifact_id=e["artifact_id"], target=e["target"],
            )
            for e in queries.route_event_rows(self.metadata, run_id)
        ]
        return PipelineRun(
            run_id=run_id,
            pipeline_name=row["pipeline_name"],
            stack_name=row["stack_name"],
            status=status,
            steps=built,
            events=events,
            error=row["error"],
            started_at=row["started_at"],
            ended_at=row["ended_at"],
            params=queries.run_params(row),
            user=row["user"],
            host=row["host"],
        )

    def _artifacts_by_step(self, run_id: str, step: str | None = None) -> dict[str, dict[str, StoredArtifact]]:
        found: dict[str, dict[str, StoredArtifact]] = {}
        for r in queries.outputs_of(self.metadata, run_id, step):
            found.setdefault(r["out_step"], {})[r["out_name"]] = self._artifact(r)
        return found

    def _attempts_by_step(self, run_id: str, step: str | None = None) -> dict[str, list[Attempt]]:
        found: dict[str, list[Attempt]] = {}
        for r in self.metadata.attempts_of(run_id, step):
            found.setdefault(r["step_name"], []).append(Attempt(r["attempt"], r["status"], r["started_at"], r["ended_at"], r["error"]))
        return found

    def _build_step(
        self, row: Row, outputs: dict[str, StoredArtifact], run_status: str | None = None, attempts: list[Attempt] | None = None
    ) -> StepRun:
        message, trace = queries.split_traceback(row["error"])
        inputs = {r["input_name"]: self._artifact(r) for r in queries.inputs_of(self.metadata, row["run_id"], row["step_name"])}
        return StepRun(
            name=row["step_name"],
            status=effective_step_status(row["status"], run_status) if run_status else row["status"],
            started_at=row["started_at"],
            ended_at=row["ended_at"],
            error=message,
            outputs=outputs,
            inputs=inputs,
            traceback=trace,
            run_id=row["run_id"],
            attempts=list(attempts or []),
        )

    # -- artifacts -----------------------------------------------------------------------------

    def get_artifact(self, artifact: str) -> StoredArtifact:
        """The artifact with id ``artifact`` (or a unique prefix of one); ``.producer``/``.consumers`` give its lineage."""
        artifact_id = queries.resolve_artifact_id(self.metadata, artifact)
        return self._artifact(queries.artifact_row(self.metadata, artifact_id))

    def list_artifacts(self, run: str | None = None, limit: int | None = 50) -> list[StoredArtifact]:
        """Artifacts, newest first; with ``run`` (an id, a unique prefix or ``"latest"``) only that run's outputs, in step order."""
        if run is not None:
            run_id = queries.resolve_run_id(self.metadata, run)
            return [self._artifact(r) for r in queries.outputs_of(self.metadata, run_id)]
        from sqlalchemy import select

        arts = self.metadata.t.artifacts
        rows = self.metadata.fetch(select(arts).order_by(arts.c.created_at.desc()).limit(limit))
        return [self._artifact(r) for r in rows]

    def _artifact(self, row: Row) -> StoredArtifact:
        stored = StoredArtifact.from_row(row)
        stored._loader = self.load_artifact
        stored._lineage = self
        return stored

    def producer_of(self, artifact: StoredArtifact) -> StepRun:
        """The step run that made ``artifact`` (a cached step reuses it; the maker is the original run's step).

        Raises :class:`~flowyml.errors.RunNotFoundError` when that run was deleted.
        """
        if not self.metadata.run_exists(artifact.run_id):
            raise RunNotFoundError(
                f"run {artifact.run_id}, which produced artifact {artifact.artifact_id[:12]}, was deleted",
                hint="its artifact is kept because another run still uses it",
            )
        return self.get_step(artifact.run_id, artifact.step_name)

    def consumers_of(self, artifact: StoredArtifact) -> list[StepRun]:
        """The step runs, of any run, that read ``artifact`` as an input."""
        return [self.get_step(r["run_id"], r["step_name"]) for r in queries.consumer_rows(self.metadata, artifact.artifact_id)]

    def load_artifact(self, artifact: StoredArtifact) -> Any:
        """The value of ``artifact``, fetched through the store of the stack its run used, verified against its run record."""
        from flowyml.runner.loading import read_stored

        return read_stored(self.stack_for_artifact(artifact), artifact)

    def stack_for_artifact(self, artifact: StoredArtifact) -> Stack:
        """The stack whose store holds ``artifact``: its producing run's, else (that run deleted) a run's that reused it."""
        candidates = [artifact.run_id, *queries.runs_using_artifact(self.metadata, artifact.artifact_id)]
        for run_id in candidates:
            if self.metadata.run_exists(run_id):
                return self.stack_for_run(run_id, uri=artifact.uri)
        raise ArtifactError(
            f"no run of artifact {artifact.artifact_id} is left in the metadata store, so its stack is unknown; it is stored at {artifact.uri}",
            hint="copy it from that URI",
        )

    def stack_for_run(self, run_id: str, *, uri: str | None = None) -> Stack:
        """The stack run ``run_id`` used, as flowyml.yaml defines it now.

        Raises :class:`~flowyml.errors.ArtifactError` naming the store URI when
        that stack is no longer defined.
        """
        name = queries.run_row(self.metadata, run_id)["stack_name"]
        if name not in self._project.stacks:
            where = f" in {self._project.file}" if self._project.file else ""
            stored = f"; the artifact is stored at {uri}" if uri else ""
            raise ArtifactError(
                f"run {run_id} used stack {name!r}, which is no longer defined{where}{stored}",
                hint=f"add stack {name!r} back to flowyml.yaml to load it, or copy it from that URI",
            )
        return self._stack(name)

    def _stack(self, name: str) -> Stack:
        stack = self._stacks.get(name)
        if stack is None:
            from flowyml.stacks.stack import open_stack

            stack = open_stack(self._project, name)
            stack.attach_metadata(self.metadata)
            self._stacks[name] = stack
        return stack

    # -- models --------------------------------------------------------------------------------

    @property
    def models(self) -> ModuleType:
        """:mod:`flowyml.models` (list, get, deploy, approve, undeploy) for scripting."""
        from flowyml import models

        return models

    def list_models(self, name: str | None = None, stack: str | None = None) -> list[LoadableModelVersion]:
        """Versions in the model registry of ``stack`` (default: the active stack), of ``name`` only when given."""
        return [self._loadable(v) for v in self.models.list_models(name, stack, project_dir=self.project_dir)]

    def get_model(self, name: str, version: str | None = None, stack: str | None = None) -> LoadableModelVersion:
        """A version of model ``name`` from the registry of ``stack`` (default: the active stack); the latest when ``version`` is None."""
        return self._loadable(self.models.get_model(name, version, stack, project_dir=self.project_dir), stack)

    def _loadable(self, version: ModelVersion, stack: str | None = None) -> LoadableModelVersion:
        values = {f.name: getattr(version, f.name) for f in attrs.fields(ModelVersion)}
        return LoadableModelVersion(**values, client=self, registry_stack=stack)

    def load_model(self, version: ModelVersion) -> Any:
        """The model object ``version`` points to: through its run's stack when the run is in this project, else the registry's stack."""
        from flowyml.core.artifacts import Model
        from flowyml.runner.loading import read_registered

        known = bool(version.run_id) and self.metadata.run_exists(str(version.run_id))
        if known:
            stack = self.stack_for_run(str(version.run_id), uri=version.uri)
        else:
            stack = self.models.model_stack(getattr(version, "_registry_stack", None), project_dir=self.project_dir)
        value = read_registered(stack, version)
        return value.data if isinstance(value, Model) else value
