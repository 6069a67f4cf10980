"""Carrying out a stack's routing rules for each artifact a run produces."""

from __future__ import annotations

import functools
import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs

from flowyml.config.schema import RoutingRule
from flowyml.core.artifacts import Metrics, Parameters
from flowyml.errors import FlowymlError
from flowyml.metadata.store import MetadataStore
from flowyml.plugins.events import ArtifactStored, ModelDecided
from flowyml.plugins.kinds import Kind
from flowyml.plugins.types import ModelVersion, RunInfo
from flowyml.redaction import redact
from flowyml.retries import call_with_retries
from flowyml.routing.decisions import decide
from flowyml.routing.paths import DEFAULT_TEMPLATE, render
from flowyml.routing.serving import already_serving
from flowyml.runner.flatten import numeric_metrics, scalar_params
from flowyml.runner.loading import read_stored
from flowyml.runner.observers import Observers
from flowyml.runner.result import TRACKER_LINK, RouteEvent, StoredArtifact
from flowyml.serialization.artifact_io import artifact_type_of
from flowyml.serialization.writer import ArtifactWriter
from flowyml.stacks.facades import Tracker
from flowyml.stacks.stack import Stack

log = logging.getLogger("flowyml.routing")
T = TypeVar("T")


def with_retries(action: Callable[[], T], what: str) -> T:
    """Run ``action`` under the core's retry policy: only FlowymlErrors marked transient are retried."""
    return call_with_retries(action, what)


@attrs.define
class PendingModel:
    """A Model whose registration waits until the steps consuming it have run."""

    artifact: StoredArtifact
    rule: RoutingRule
    #: The step of this run that produced (or reused from the cache) the model.
    step: str

    @property
    def info(self) -> dict[str, Any]:
        """What the model's manifest says of it (name, version, framework, metadata, serving config, schemas)."""
        return self.artifact.info


class RouteExecutor:
    """Stores outputs, logs to the trackers, registers and deploys models, recording every action.

    Whatever produced an artifact (a step here, the cache, a remote step),
    :meth:`record_stored` is the one path it then takes: recorded, announced
    to observers, logged to the trackers, queued for registration.
    """

    def __init__(self, stack: Stack, metadata: MetadataStore, run: RunInfo, observers: Observers, deferred: bool = False) -> None:
        #: In a remote step's container: store and record only; the client logs and registers on collection.
        self.deferred = deferred
        self.stack = stack
        self.metadata = metadata
        self.run = run
        self.observers = observers
        self.events: list[RouteEvent] = []
        self.pending_models: list[PendingModel] = []
        self.metrics_by_step: dict[str, list[dict[str, Any]]] = {}
        self.failed = False
        self._keys: set[str] = set()
        self._lock = threading.Lock()
        self._tracker_lock = threading.Lock()
        #: Trackers whose run is open (started and not yet ended).
        self.open_trackers: list[Tracker] = []

    # -- bookkeeping ---------------------------------------------------------------

    def event(
        self, action: str, status: str, detail: str, *, step: str | None = None, artifact_id: str | None = None, target: str | None = None
    ) -> RouteEvent:
        detail = redact(detail)  # component messages leave here, into the run record and the log
        ev = RouteEvent(action, status, detail, step, artifact_id, target)
        with self._lock:
            self.events.append(ev)
        self.metadata.add_route_event(self.run.run_id, step, artifact_id, action, target, status, detail)
        if status == "failed":
            log.error("%s %s: %s", action, target or "", detail)
        return ev

    def route_failed(self, action: str, exc: Exception, *, step: str | None, artifact_id: str | None, target: str | None) -> None:
        detail = str(exc) if isinstance(exc, FlowymlError) else f"{type(exc).__name__}: {exc}"
        self.event(action, "failed", detail, step=step, artifact_id=artifact_id, target=target)
        if self.stack.config.on_route_error == "fail":
            self.failed = True

    # -- storing ---------------------------------------------------------------------

    def rule_for(self, value: Any) -> RoutingRule:
        return self.stack.config.rule_for(artifact_type_of(value)) or RoutingRule()

    def key_for(self, value: Any, step: str, output: str, rule: RoutingRule) -> str:
        name = getattr(value, "name", None) or output
        values = {
            "run_id": self.run.run_id,
            "step_name": step,
            "artifact_name": artifact_type_of(value).lower(),
            "pipeline_name": self.run.pipeline_name,
            "name": name,
            "version": getattr(value, "version", None),
        }
        if rule.path is None:
            key = render(DEFAULT_TEMPLATE, {**values, "name": output})
        else:
            key = render(rule.path, values)
        with self._lock:
            if key in self._keys:
                key = f"{key}/{output}"
            self._keys.add(key)
        return key

    def store(self, value: Any, step: str, output: str) -> StoredArtifact:
        """Write one output to the stack's artifact store and record it. Raises on failure."""
        rule = self.rule_for(value)
        key = self.key_for(value, step, output, rule)
        artifact_id = uuid.uuid4().hex
        extra = {"run_id": self.run.run_id, "step_name": step, "output_name": output, "artifact_id": artifact_id}
        manifest = self.stack.artifact_store.save(key, ArtifactWriter(value, extra))
        stored = StoredArtifact.from_manifest(manifest, artifact_id=artifact_id, run_id=self.run.run_id, step_name=step, output_name=output)
        self.record_stored(stored, "stored", value=value)
        return stored

    # -- after storing: the one path -----------------------------------------------------

    def record_stored(
        self, stored: StoredArtifact, source: str, *, step: str | None = None, value: Any = None, cached_from: str | None = None
    ) -> Any:
        """Record an artifact of this run and route it: fresh (``stored``), ``cached`` or ``remote`` alike.

        ``value`` is the artifact's value when this process has it; Metrics and
        Parameters are read back from the store otherwise. ``step`` is the step
        of this run it belongs to (a cached artifact was made by an earlier
        run's step). Returns the value when it was read (so the run can keep
        it for the steps that consume it).
        """
        step = step or stored.step_name
        self.metadata.add_artifact(stored.to_row(), self.run.run_id, step, stored.output_name)
        if self.deferred:  # the client records the rest when it collects this step's record
            return None
        detail = {
            "stored": f"{stored.artifact_type} stored at {stored.uri}",
            "cached": f"cached: reusing {stored.artifact_type} from run {cached_from} at {stored.uri}",
            "remote": f"{stored.artifact_type} stored at {stored.uri} by a remote step",
        }[source]
        self.event("store", "ok", detail, step=step, artifact_id=stored.artifact_id, target=self.stack.type_of(Kind.ARTIFACT_STORE))
        self.observers.artifact_stored(
            ArtifactStored(
                self.run.run_id, step, stored.output_name, stored.artifact_id, stored.artifact_type, stored.uri,
                stored.content_hash, stored.size, source, cached_from,
            )
        )
        rule = self.stack.config.rule_for(stored.artifact_type) or RoutingRule()
        read = None
        if stored.artifact_type in ("Metrics", "Parameters"):
            if value is None:
                value = read = read_stored(self.stack, stored)
            if isinstance(value, Metrics):
                with self._lock:
                    self.metrics_by_step.setdefault(step, []).append(dict(value.data))
            if rule.log_to_tracker and isinstance(value, Metrics | Parameters):
                self.log_to_tracker(value, step, stored)
        elif stored.artifact_type == "Model" and rule.register:
            with self._lock:
                self.pending_models.append(PendingModel(stored, rule, step))
        return read

    def start_tracker(self) -> None:
        """Open every tracker's run; a tracker that cannot start gets no further calls."""
        for tracker in self.stack.trackers:
            try:
                where = with_retries(functools.partial(tracker.start_run, self.run), f"starting the {tracker.type} run")
            except Exception as exc:
                self.route_failed("tracker", exc, step=None, artifact_id=None, target=tracker.type)
                continue
            self.open_trackers.append(tracker)
            self.event("tracker", "ok", f"{tracker.type} run started", target=tracker.type)
            if where:  # where the tracker's run can be seen: PipelineRun.tracker_links reads it back
                self.event(TRACKER_LINK, "ok", where, target=tracker.type)

    def end_tracker(self, status: str) -> None:
        """Close every open tracker run (each one's failure recorded against it)."""
        trackers, self.open_trackers = self.open_trackers, []
        for tracker in trackers:
            try:
                with_retries(functools.partial(tracker.end_run, status), f"closing the {tracker.type} run")
            except Exception as exc:
                self.route_failed("tracker", exc, step=None, artifact_id=None, target=tracker.type)

    def log_to_tracker(self, value: Metrics | Parameters, step: str, stored: StoredArtifact) -> None:
        """Log ``value`` to every tracker of the stack; one tracker failing does not keep it from the others."""
        for tracker in self.stack.trackers:
            if tracker not in self.open_trackers:
                self.event("log", "skipped", f"{value.type_name} not logged: the {tracker.type} run is not open", step=step, artifact_id=stored.artifact_id, target=tracker.type)
                continue
            self._log_one(tracker, value, step, stored)

    def _log_one(self, tracker: Tracker, value: Metrics | Parameters, step: str, stored: StoredArtifact) -> None:
        try:
            if isinstance(value, Metrics):
                numbers, problems = numeric_metrics(value.data)
                with self._tracker_lock:
                    with_retries(lambda: tracker.log_metrics(numbers, value.step, dict(value.metadata), step), f"logging metrics to {tracker.type}")
                what = f"{len(numbers)} metrics" + (f" at step {value.step}" if value.step is not None else "")
            else:
                params, problems = scalar_params(value.data)
                with self._tracker_lock:
                    with_retries(lambda: tracker.log_params(params, step), f"logging parameters to {tracker.type}")
                what = f"{len(params)} parameters"
        except Exception as exc:
            self.route_failed("log", exc, step=step, artifact_id=stored.artifact_id, target=tracker.type)
            return
        self.event("log", "ok", f"{what} logged to {tracker.type}", step=step, artifact_id=stored.artifact_id, target=tracker.type)
        for problem in problems:
            self.event("log", "skipped" if "not logged" in problem else "ok", problem, step=step, artifact_id=stored.artifact_id, target=tracker.type)

    # -- models --------------------------------------------------------------------------

    def metrics_for(self, pending: PendingModel) -> dict[str, Any]:
        """Model.metadata["metrics"], overlaid with Metrics from steps that consumed the model."""
        carried = (pending.info.get("metadata") or {}).get("metrics")
        metrics = dict(carried) if isinstance(carried, Mapping) else {}
        for consumer in self.metadata.consumers_of(self.run.run_id, pending.artifact.artifact_id):
            for data in self.metrics_by_step.get(consumer, []):
                metrics.update(data)
        return metrics

    def finalize_models(self, run_ok: bool) -> None:
        """Register every queued model and decide its deployment, once each; tell observers what was decided."""
        for pending in self.pending_models:
            self.observers.model_decided(self._register_and_decide(pending, run_ok))

    def _register_and_decide(self, pending: PendingModel, run_ok: bool) -> ModelDecided:
        stored, rule, info, step = pending.artifact, pending.rule, pending.info, pending.step
        registry_facade = self.stack.model_registry
        registry = registry_facade.type
        metrics = self.metrics_for(pending)
        name = info.get("name") or f"{self.run.pipeline_name}-{step}"
        decision = decide(rule, metrics)
        version = ModelVersion(
            name=name,
            version=info.get("version") or "",
            uri=stored.uri,
            framework=info.get("framework"),
            status="pending_approval" if decision.status == "pending_approval" else "registered",
            content_hash=stored.content_hash,
            run_id=self.run.run_id,
            pipeline_name=self.run.pipeline_name,
            step_name=step,
            metrics=metrics,
            metadata={k: v for k, v in (info.get("metadata") or {}).items() if k != "metrics"},
            serving_config=info.get("serving_config"),
            input_schema=info.get("input_schema"),
            output_schema=info.get("output_schema"),
        )

        def decided(reason: str, registered: ModelVersion | None = None, deploy: bool = False, endpoint: str | None = None, deployed: bool = False) -> ModelDecided:
            return ModelDecided(
                self.run.run_id, step, stored.artifact_id, registered.name if registered else name, registered.version if registered else "",
                registered is not None, deploy, reason, registered.status if registered else None, endpoint, deployed,
            )

        try:
            registered = with_retries(lambda: registry_facade.register(version), f"registering {name} in {registry}")
        except Exception as exc:
            self.route_failed("register", exc, step=step, artifact_id=stored.artifact_id, target=registry)
            self.event("decision", "skipped", f"{name}: not deployed: registration failed", step=step, artifact_id=stored.artifact_id, target=registry)
            return decided("not deployed: registration failed")
        label = f"{registered.name} version {registered.version}"
        decision = decision.named(registered.name, registered.version)
        if rule.deploy_condition == "on_approval" and registered.status == "approved":
            decision = attrs.evolve(decision, reason="this exact version was approved already; deploy it with `flowyml model deploy` if it is not serving")
        if not run_ok and decision.deploy:
            decision = attrs.evolve(decision, deploy=False, status="registered", reason="not deployed: the run failed")
        self.event("register", "ok", f"{label} registered in {registry} ({registered.status})", step=step, artifact_id=stored.artifact_id, target=registry)
        if not decision.deploy:
            self.event("decision", "ok", f"{label}: {decision.reason}", step=step, artifact_id=stored.artifact_id, target=registry)
            return decided(decision.reason, registered)
        endpoint = rule.endpoint_name or registered.name
        serving = already_serving(self.stack, registered, endpoint)
        if serving is not None:
            where = f" ({serving.url})" if serving.url else ""
            reason = f"already serving at endpoint {serving.endpoint_name}{where}; left alone"
            self.event("decision", "ok", f"{label}: {reason}", step=step, artifact_id=stored.artifact_id, target=registry)
            return decided(reason, registered, endpoint=endpoint, deployed=True)
        self.event("decision", "ok", f"{label}: deploy ({decision.reason})", step=step, artifact_id=stored.artifact_id, target=registry)
        try:
            registered = registry_facade.set_status(registered.name, registered.version, "approved")
        except Exception as exc:
            self.route_failed("register", exc, step=step, artifact_id=stored.artifact_id, target=registry)
        deployed = self.deploy(registered, rule, step, stored.artifact_id)
        return decided(decision.reason, registered, deploy=True, endpoint=endpoint, deployed=deployed)

    def deploy(self, model: ModelVersion, rule: RoutingRule, step: str | None, artifact_id: str | None) -> bool:
        endpoint = rule.endpoint_name or model.name
        config = dict(model.serving_config or {})
        deployer = self.stack.type_of(Kind.MODEL_DEPLOYER)
        try:
            deployment = self.stack.model_deployer.deploy(model, endpoint, config)
        except Exception as exc:
            self.route_failed("deploy", exc, step=step, artifact_id=artifact_id, target=deployer)
            return False
        where = f" at {deployment.url}" if deployment.url else ""
        self.event("deploy", "ok", f"{model.name} version {model.version} deployed to endpoint {endpoint}{where}", step=step, artifact_id=artifact_id, target=deployer)
        return True
