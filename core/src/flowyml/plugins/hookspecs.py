# mypy: disable-error-code="empty-body"
"""Hook specifications: the contract between the FlowyML core and its backends.

Two kinds of hooks exist.

*Component hooks* are implemented by stack components: an instance of a
backend class (an artifact store, a model registry, ...) that the core builds
from a stack's configuration and registers in that stack's plugin manager.
One component of each kind is registered per stack (several experiment
trackers when the stack lists several); the core calls each component's own
implementation through its facade (:mod:`flowyml.stacks.facades`), so the
``firstresult`` hooks below are answered by the stack's component of that
kind, and every tracker receives every tracker call.

*Registration hooks* and *run-event hooks* are implemented by general plugins
(entry-point group ``flowyml``): the first add serializers for new value
types and commands to the ``flowyml`` command line, the second observe runs
(their payloads are in :mod:`flowyml.plugins.events`).

Every hook is named ``flowyml_*``; implement it with ``@flowyml.hookimpl``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flowyml.plugins.events import (
    ArtifactStored,
    ModelDecided,
    RunFinished,
    RunStarted,
    StepFinished,
)
from flowyml.plugins.markers import hookspec
from flowyml.plugins.types import Deployment, ModelVersion, RunHandle, RunInfo

# ---------------------------------------------------------------------------
# every component
# ---------------------------------------------------------------------------


@hookspec
def flowyml_component_check() -> list[str]:
    """Verify the component can be reached and used, before a run.

    Called by ``flowyml stack check`` on every component of the stack. Return
    a list of short lines describing what was verified (``"bucket b is
    writable"``). Raise a :class:`flowyml.errors.FlowymlError` naming what is
    wrong and how to fix it when the component is not usable.
    """


# ---------------------------------------------------------------------------
# artifact store
# ---------------------------------------------------------------------------


@hookspec(firstresult=True)
def flowyml_artifact_store_save(key: str, write: Callable[[Path], None]) -> str:
    """Store one artifact under ``key`` and return its URI.

    ``key`` is a relative, normalised path (``run/step/model``) that the core
    rendered from the routing rule. The store creates an empty local staging
    directory, calls ``write(directory)`` which serializes the artifact into
    it (data files, then a ``flowyml.json`` manifest), and then commits the
    directory at ``key``. A reader must never see a partially committed
    artifact as complete: commit the manifest last, or rename atomically.
    Stops at the first non-None result.

    For a step's output ``write`` is a
    :class:`flowyml.serialization.writer.ArtifactWriter`, which also offers
    ``write.packed(limit, keep_as_folder)``: the artifact as one packed file
    (:mod:`flowyml.stores.packed`) built in memory, or ``None`` when it is
    larger than ``limit``. Other callers pass a plain function: use
    ``getattr(write, "packed", None)``.
    """


@hookspec(firstresult=True)
def flowyml_artifact_store_fetch(uri: str, scratch: Path) -> Path:
    """Return a local directory holding the artifact stored at ``uri``.

    A remote store downloads into ``scratch`` (an empty directory the core
    removes afterwards); a local store may return its own directory. Raise
    :class:`flowyml.errors.ArtifactError` when nothing is stored there.
    Stops at the first non-None result.
    """


@hookspec(firstresult=True)
def flowyml_artifact_store_exists(uri: str) -> bool:
    """Whether a complete artifact (its manifest included) is stored at ``uri``.

    Stops at the first non-None result.
    """


@hookspec(firstresult=True)
def flowyml_artifact_store_uri(key: str) -> str:
    """The URI an artifact saved under ``key`` would get, without storing anything.

    Used to plan routes. Stops at the first non-None result.
    """


@hookspec(firstresult=True)
def flowyml_artifact_store_delete(uri: str) -> bool:
    """Delete the artifact stored at ``uri``; return True, or False when nothing is stored there.

    Optional: ``flowyml runs delete --artifacts`` and ``flowyml gc --artifacts``
    call it, and refuse (deleting nothing) for a store without it. Remove the
    manifest first, so that a reader never takes a half-deleted artifact for a
    complete one. Raise :class:`flowyml.errors.ArtifactError` for a URI outside
    the store. Stops at the first non-None result.
    """


# ---------------------------------------------------------------------------
# model registry
# ---------------------------------------------------------------------------


@hookspec(firstresult=True)
def flowyml_model_registry_register(model: ModelVersion) -> ModelVersion:
    """Register ``model`` as a new version and return it as registered.

    ``model.version`` is empty when the pipeline gave none: the registry then
    assigns the next version number itself.

    The returned value carries the backend's ``registry_id`` and the
    ``status`` it was registered with (``registered`` or
    ``pending_approval``). A version that exists already must not be
    overwritten: return the existing one when its ``content_hash`` is the same,
    raise :class:`flowyml.errors.RegistryError` otherwise.
    Stops at the first non-None result.
    """


@hookspec(firstresult=True)
def flowyml_model_registry_get(name: str, version: str | None) -> ModelVersion | None:
    """Return one model version (the latest when ``version`` is None), or None.

    Stops at the first non-None result.
    """


@hookspec(firstresult=True)
def flowyml_model_registry_list(name: str | None) -> list[ModelVersion]:
    """Return every version of model ``name`` (of every model when None), oldest first.

    Stops at the first non-None result.
    """


@hookspec(firstresult=True)
def flowyml_model_registry_set_status(name: str, version: str, status: str) -> ModelVersion:
    """Change a version's status (one of ``flowyml.plugins.types.MODEL_STATUSES``).

    Raise :class:`flowyml.errors.ModelNotFoundError` for an unknown version.
    Stops at the first non-None result.
    """


# ---------------------------------------------------------------------------
# model deployer
# ---------------------------------------------------------------------------


@hookspec(firstresult=True)
def flowyml_model_deployer_deploy(
    model: ModelVersion, endpoint_name: str, config: Mapping[str, Any]
) -> Deployment:
    """Serve ``model`` behind ``endpoint_name`` and return the deployment.

    ``config`` merges the model's ``serving_config`` with the rule's options.
    Deploying to an endpoint that already serves another version replaces it
    without downtime where the backend allows. Raise
    :class:`flowyml.errors.DeploymentError` with the backend's own reason on
    failure. Stops at the first non-None result.
    """


@hookspec(firstresult=True)
def flowyml_model_deployer_undeploy(endpoint_name: str) -> bool:
    """Stop serving at ``endpoint_name``; return False when nothing was deployed there.

    Stops at the first non-None result.
    """


@hookspec(firstresult=True)
def flowyml_model_deployer_list() -> list[Deployment]:
    """Return the deployments this deployer manages. Stops at the first non-None result."""


# ---------------------------------------------------------------------------
# experiment tracker
# ---------------------------------------------------------------------------


@hookspec
def flowyml_tracker_start_run(run: RunInfo) -> str | None:
    """Open the tracker's run for pipeline run ``run`` (called once, before any log).

    Return where the tracker's run can be seen, if it has such a place: the
    URL of its page (``http(s)://...``) or a local folder; None otherwise. The
    core records it with the run (``PipelineRun.tracker_links``).
    """


@hookspec
def flowyml_tracker_log_metrics(
    metrics: Mapping[str, float], step: int | None, metadata: Mapping[str, Any], step_name: str
) -> None:
    """Log numeric ``metrics`` at training ``step`` (None: no step).

    ``metadata`` comes from ``Metrics.with_metadata()``; ``step_name`` is the
    pipeline step that produced the metrics. Values are already flattened to
    ``name -> float``.
    """


@hookspec
def flowyml_tracker_log_params(params: Mapping[str, Any], step_name: str) -> None:
    """Log hyperparameters (flattened to ``name -> scalar``)."""


@hookspec
def flowyml_tracker_end_run(status: str) -> None:
    """Close the tracker's run, mirroring the pipeline's final status (``completed``/``failed``)."""


# ---------------------------------------------------------------------------
# orchestrator
# ---------------------------------------------------------------------------


@hookspec(firstresult=True)
def flowyml_orchestrator_run(run: RunHandle) -> bool:
    """Execute a pipeline run and return True when it was handled.

    ``run`` is a :class:`flowyml.plugins.types.RunHandle`, and its members are
    all an orchestrator may use: the step graph (``run.steps``,
    ``run.upstream(name)``, ``run.downstream(name)``, ``run.result(name)``),
    ``run.execute_step(name)`` which runs one step in this process, and
    ``run.skip_step`` / ``run.fail_step``. A remote orchestrator instead calls
    ``run.prepare_remote()``, launches ``run.step_command(name)`` (the generic
    ``flowyml step run`` entry) with ``run.step_env()`` for each step in its
    own environment and then calls ``run.collect_remote_results()``.
    Stops at the first non-None result.
    """


# ---------------------------------------------------------------------------
# run events (general plugins)
# ---------------------------------------------------------------------------


@hookspec
def flowyml_run_started(event: RunStarted) -> None:
    """A run began (``event``: run id, pipeline, stack, project folder, step names, parameters).

    Called once per run, before the orchestrator gets the steps. Run events are
    for observers (audit logs, notifications, dashboards): they are called one
    at a time, for local, cached and remote runs alike, and an observer that
    raises is logged and never fails the run.
    """


@hookspec
def flowyml_artifact_stored(event: ArtifactStored) -> None:
    """An output of a step is stored and recorded (``event.source``: ``stored``, ``cached`` or ``remote``).

    Called before the step's ``flowyml_step_finished``.
    """


@hookspec
def flowyml_step_finished(event: StepFinished) -> None:
    """A step has its final status (``completed``, ``cached``, ``failed``, ``skipped``) and outputs."""


@hookspec
def flowyml_model_decided(event: ModelDecided) -> None:
    """The run decided what happens to one model: registered or not, deployed or not, and why.

    Called once per model the routing registers, after the steps have run.
    """


@hookspec
def flowyml_run_finished(event: RunFinished) -> None:
    """A run ended, with its status, error and every step's status; the last event of a run."""


# ---------------------------------------------------------------------------
# registration (general plugins)
# ---------------------------------------------------------------------------


@hookspec
def flowyml_register_serializers(register: Callable[..., None]) -> None:
    """Add serializers: call ``register(serializer)`` for each.

    A serializer is a :class:`flowyml.serialization.Serializer`. For each
    value the first serializer whose ``can_save(value)`` accepts it is used;
    plugins' serializers are tried before the built-in ones (which end with
    pickle as the last resort).
    """


@hookspec
def flowyml_register_commands(cli: Any) -> None:
    """Add commands to the ``flowyml`` command line: ``cli`` is its :class:`click.Group`.

    Called once when the ``flowyml`` command starts, for every installed
    general plugin (entry-point group ``flowyml``), after the built-in
    commands are added. Decorate a function with ``@cli.command()`` (or call
    ``cli.add_command``); a name the core or another plugin uses already is
    refused. Keep the module light: import what the command needs (a web
    server, a vendor SDK) inside the command's function, since this runs on
    every ``flowyml`` invocation.
    """


#: The hooks a component of each kind must implement (checked when a stack is built).
REQUIRED_HOOKS: dict[str, tuple[str, ...]] = {
    "orchestrator": ("flowyml_orchestrator_run",),
    "artifact_store": (
        "flowyml_artifact_store_save",
        "flowyml_artifact_store_fetch",
        "flowyml_artifact_store_exists",
        "flowyml_artifact_store_uri",
    ),
    "model_registry": (
        "flowyml_model_registry_register",
        "flowyml_model_registry_get",
        "flowyml_model_registry_list",
        "flowyml_model_registry_set_status",
    ),
    "model_deployer": ("flowyml_model_deployer_deploy", "flowyml_model_deployer_undeploy"),
    "experiment_tracker": (
        "flowyml_tracker_start_run",
        "flowyml_tracker_log_metrics",
        "flowyml_tracker_log_params",
        "flowyml_tracker_end_run",
    ),
}
