"""Values passed to and returned from component hooks, and what an orchestrator receives.

The values are plain attrs classes so that backends can build and compare
them, and the core can record them as JSON. :class:`RunHandle` is the one
object an orchestrator gets (``flowyml_orchestrator_run(run)``): a Protocol
listing exactly the members an orchestrator may use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import attrs

if TYPE_CHECKING:
    from flowyml.core.settings import StepSettings
    from flowyml.runner.result import StepRun

#: Approval states a registered model version can be in.
MODEL_STATUSES = ("registered", "pending_approval", "approved", "rejected", "archived")

#: States of a deployment, the same for every deployer; the backend's own word is ``Deployment.backend_status``.
DEPLOYMENT_STATUSES = ("pending", "serving", "failed", "stopped")


def _deployment_status(instance: Any, attribute: Any, value: str) -> None:
    if value not in DEPLOYMENT_STATUSES:
        raise ValueError(
            f"Deployment.status must be one of {', '.join(DEPLOYMENT_STATUSES)}, got {value!r} "
            "(a deployer keeps its backend's own word in backend_status)"
        )


@attrs.frozen
class RunInfo:
    """The pipeline run a tracker or orchestrator works for."""

    run_id: str
    pipeline_name: str
    stack_name: str
    project_dir: str
    tags: dict[str, str] = attrs.field(factory=dict)


@attrs.frozen
class ModelVersion:
    """A model version as a registry keeps it.

    ``uri`` is where the artifact store put the model; ``registry_id`` is the
    backend's own identifier (an ARN, a resource name) once registered.
    """

    name: str
    version: str
    uri: str
    framework: str | None = None
    status: str = "registered"
    content_hash: str | None = None
    run_id: str | None = None
    pipeline_name: str | None = None
    step_name: str | None = None
    metrics: dict[str, Any] = attrs.field(factory=dict)
    metadata: dict[str, Any] = attrs.field(factory=dict)
    serving_config: dict[str, Any] | None = None
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    registry_id: str | None = None
    created_at: str | None = None

    def evolve(self, **changes: Any) -> ModelVersion:
        return attrs.evolve(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class Deployment:
    """A model version served behind an endpoint.

    ``status`` is one of :data:`DEPLOYMENT_STATUSES` (``pending``, ``serving``,
    ``failed``, ``stopped``) whatever the deployer; ``backend_status`` is the
    backend's own word for it (``InService``, ``running``, ...).
    """

    endpoint_name: str
    model_name: str
    model_version: str
    status: str = attrs.field(default="serving", validator=_deployment_status)
    url: str | None = None
    details: dict[str, Any] = attrs.field(factory=dict)
    backend_status: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class Manifest:
    """What the artifact store committed for one artifact: its URI and the manifest written beside it."""

    uri: str
    artifact_type: str
    python_type: str | None
    content_hash: str
    size: int | None
    serializer: str | None
    #: The artifact's own description (a Model's name, version, framework, ...).
    info: dict[str, Any] = attrs.field(factory=dict)

    @classmethod
    def from_dict(cls, uri: str, manifest: dict[str, Any]) -> Manifest:
        return cls(
            uri=uri,
            artifact_type=manifest.get("artifact_type", "Value"),
            python_type=manifest.get("python_type"),
            content_hash=manifest["content_hash"],
            size=manifest.get("size"),
            serializer=manifest.get("serializer"),
            info=dict(manifest.get("artifact") or {}),
        )


class RunHandle(Protocol):
    """The pipeline run an orchestrator executes: ``flowyml_orchestrator_run(run)`` receives one.

    These members are the whole contract; an orchestrator uses nothing else.
    Step names are those of the pipeline; every ``*_step`` method records the
    step in the project's metadata store and returns its
    :class:`~flowyml.runner.result.StepRun`.

    An **in-process** orchestrator calls ``execute_step(name)`` for each step in
    an order where ``upstream(name)`` have finished, and ``skip_step(name,
    reason)`` for steps it does not run (a failed upstream). A **remote**
    orchestrator calls ``prepare_remote()`` once (which also answers what it
    can from the cache), launches ``step_command(name)`` with ``step_env()``
    for each step of ``steps_to_run`` in its own environment (depending only
    on the upstream steps also in ``steps_to_run``), and finally
    ``collect_remote_results()``; it may record what
    it saw fail itself with ``fail_step`` (a step's own record, when it wrote
    one, wins on collection).
    """

    @property
    def run_id(self) -> str:
        """The run's id (also in ``step_env()`` as ``FLOWYML_RUN_ID``)."""
        ...

    @property
    def pipeline_name(self) -> str:
        """The pipeline's name."""
        ...

    @property
    def stack_name(self) -> str:
        """The stack the run uses."""
        ...

    @property
    def steps(self) -> Sequence[str]:
        """Every step name, in a dependency order."""
        ...

    @property
    def steps_to_run(self) -> Sequence[str]:
        """The steps a remote orchestrator launches, in a dependency order: after ``prepare_remote()``, every step
        not already answered from the cache (those are recorded ``cached``; launching one anyway is a no-op)."""
        ...

    def upstream(self, name: str) -> Sequence[str]:
        """The steps ``name`` consumes outputs of."""
        ...

    def downstream(self, name: str) -> Sequence[str]:
        """The steps that consume outputs of ``name``."""
        ...

    def result(self, name: str) -> StepRun | None:
        """What is recorded for step ``name`` so far (None: nothing yet)."""
        ...

    def execute_step(self, name: str) -> StepRun:
        """Run step ``name`` in this process; never raises for a failing step (returns it failed)."""
        ...

    def skip_step(self, name: str, reason: str) -> StepRun:
        """Record that step ``name`` was not run, and why."""
        ...

    def fail_step(self, name: str, reason: str) -> StepRun:
        """Record that step ``name`` failed outside this process, with the backend's reason."""
        ...

    def artifact_uri(self, key: str) -> str:
        """The URI the stack's artifact store gives ``key`` (a place for the orchestrator's own files)."""
        ...

    def prepare_remote(self) -> str:
        """Write the run snapshot into the artifact store (once, before ``step_command``); return its URI."""
        ...

    def step_command(self, name: str) -> list[str]:
        """The command a remote environment runs for step ``name`` (``flowyml step run ...``)."""
        ...

    def step_env(self) -> dict[str, str]:
        """Environment variables a remote step needs besides the image's own."""
        ...

    def collect_remote_results(self) -> None:
        """Read back the records remote steps wrote; record, log, register and deploy as for a local run."""
        ...

    def step_settings(self, name: str) -> StepSettings:
        """Step ``name``'s settings (retries, retry_delay, timeout, resources, orchestrator sections), code and flowyml.yaml merged."""
        ...
