"""Running a pipeline: the one owner of a run, read top to bottom.

:class:`RunSession` drives a run in one forward pass: choose and check the
stack, record the run's start, open the trackers, hand the steps to the
orchestrator (each stored artifact is routed as it comes, see
:meth:`RouteExecutor.record_stored`), decide every model once, close the
trackers, record the outcome, and tell observers at each stage.
:func:`run_remote_step` is the same for one step inside a remote
orchestrator's container (``flowyml step run``).
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from flowyml.config.loader import load_project, resolve_stack_name
from flowyml.core.settings import StepSettings
from flowyml.errors import FlowymlError, PipelineError, RunInterrupted
from flowyml.metadata.database_url import EMBEDDED
from flowyml.metadata.heartbeat import Heartbeat
from flowyml.metadata.store import MetadataStore
from flowyml.plugins.events import RunFinished, RunStarted
from flowyml.plugins.kinds import Kind
from flowyml.plugins.types import RunInfo
from flowyml.redaction import redact, redact_exception
from flowyml.routing.validate import validate_stack
from flowyml.runner import interrupts, records
from flowyml.runner.loading import StackReader
from flowyml.runner.observers import NoObservers, Observers
from flowyml.runner.orchestration import OrchestratedRun
from flowyml.runner.result import PipelineRun, StepRun
from flowyml.runner.routes import RouteExecutor
from flowyml.runner.step_settings import check_settings, resolve_settings
from flowyml.stacks.stack import Stack

log = logging.getLogger("flowyml.run")

#: Set to ``1`` in a remote step's environment when the orchestrator's platform retries the step itself
#: (a new container per attempt): the step then runs one attempt and continues the attempt count.
PLATFORM_RETRIES_ENV = "FLOWYML_PLATFORM_RETRIES"


def new_run_id(pipeline_name: str) -> str:
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


def prepare_stack(explicit: str | None, start: Path | None = None, *, shared_metadata: bool = True) -> Stack:
    """Choose the stack (precedence rules), validate its routing, and build its components.

    ``start`` is the folder flowyml.yaml is looked for from (default: the
    working directory). Everything that can be wrong with a stack fails here,
    before any step runs.
    """
    project = load_project(start)
    choice = resolve_stack_name(project, explicit)
    config = project.stack(choice.name)
    validate_stack(project, config)
    stack = Stack(project, config, choice.reason)
    # An unreachable database fails here, before any step. A remote step's container keeps its
    # records in its own embedded database (``shared_metadata=False``): the client collects them.
    metadata = MetadataStore.of(project) if shared_metadata else MetadataStore.for_project(project.project_dir, EMBEDDED)
    stack.attach_metadata(metadata)
    stack.plugin_manager  # noqa: B018 - import backends, resolve ${VAR}s, validate options now
    return stack


class RunSession:
    """One pipeline run from start to finish.

    ``run_pipeline`` drives it as ``begin`` (in the constructor), ``orchestrate``
    and ``finish``. Orchestrator tests can drive the steps in between
    themselves (see :func:`flowyml.testing.start_run`).
    """

    def __init__(
        self,
        pipeline: Any,
        *,
        params: Mapping[str, Any] | None = None,
        stack: str | None = None,
        cache: bool = True,
        target: str | None = None,
        progress: Callable[[str, str, StepRun | None], None] | None = None,
    ) -> None:
        from flowyml.runner.targets import project_start

        self.graph = pipeline.build(dict(params or {}))
        self.stack = prepare_stack(stack, project_start(pipeline))
        try:
            self.settings = resolve_settings(self.graph, self.stack)
            notes = check_settings(self.stack, self.settings)  # a setting the orchestrator cannot honour stops the run here
        except BaseException:
            self.stack.close()
            raise
        self.metadata = MetadataStore.of(self.stack.project)
        if target is None:
            from flowyml.runner.targets import target_of

            target = target_of(pipeline, self.stack.project_dir)
        run_id = new_run_id(self.graph.name)
        self.info = RunInfo(
            run_id=run_id,
            pipeline_name=self.graph.name,
            stack_name=self.stack.name,
            project_dir=str(self.stack.project_dir),
            tags={"flowyml.run_id": run_id, "flowyml.pipeline": self.graph.name, "flowyml.stack": self.stack.name},
        )
        self.started = time.time()
        self.metadata.start_run(run_id, self.graph.name, self.stack.name, self.stack.reason, self.graph.params, target)
        self.heartbeat = Heartbeat(self.metadata, run_id).start()
        self.observers = Observers()
        self.routes = RouteExecutor(self.stack, self.metadata, self.info, self.observers)
        self.run = OrchestratedRun(self.graph, self.stack, self.metadata, self.info, self.routes, cache, target, self.settings)
        self.run.progress = progress
        for note in notes:  # settings the orchestrator ignores, recorded in the run
            self.routes.event("settings", "skipped", f"{note.setting}: {note.message}", step=note.step, target=self.stack.type_of(Kind.ORCHESTRATOR))
        self.error: str | None = None
        self.observers.run_started(
            RunStarted(run_id, self.graph.name, self.stack.name, str(self.stack.project_dir), tuple(self.graph.order), dict(self.graph.params), self.started)
        )

    @property
    def run_id(self) -> str:
        return self.info.run_id

    def start_tracker(self) -> bool:
        """Open the tracker run; when that fails on a strict stack, skip every step and return False."""
        self.routes.start_tracker()
        if self.routes.failed:
            self.error = "the experiment tracker could not start the run (see the route events)"
            for name in self.graph.order:
                self.run.skip_step(name, self.error)
            return False
        return True

    def orchestrate(self) -> None:
        """Hand the graph to the stack's orchestrator."""
        if not self.start_tracker():
            return
        self.stack.orchestrator.run(self.run)

    def finish(self) -> PipelineRun:
        """Register/deploy models, close the tracker, record the outcome and return the run."""
        results = self.run.results
        steps_ok = len(results) == len(self.graph.nodes) and all(r.status in ("completed", "cached") for r in results.values())
        self.routes.finalize_models(steps_ok)
        failed_steps = [r for r in results.values() if r.status == "failed"]
        if failed_steps and self.error is None:
            self.error = f"step {failed_steps[0].name!r} failed: {failed_steps[0].error}"
        elif self.routes.failed and self.error is None:
            failures = [e.detail for e in self.routes.events if e.status == "failed"]
            self.error = "routing failed: " + (failures[0] if failures else "see the route events")
        status = "completed" if steps_ok and not self.routes.failed and self.error is None else "failed"
        self.routes.end_tracker(status)
        self.heartbeat.stop()
        self.run.announcer.stop()
        if self.error is not None:
            self.error = redact(self.error)
        self.metadata.finish_run(self.run_id, status, self.error)
        self.stack.close()
        ordered = {name: results[name] for name in self.graph.order if name in results}
        reader = StackReader(self.stack.project, self.stack.name)
        for step_run in ordered.values():
            for stored in step_run.outputs.values():
                stored._loader = reader  # read back through this run's stack, not whatever flowyml.yaml the cwd has
        result = PipelineRun(
            run_id=self.run_id,
            pipeline_name=self.graph.name,
            stack_name=self.stack.name,
            status=status,
            steps=ordered,
            events=list(self.routes.events),
            error=self.error,
            started_at=self.started,
            ended_at=time.time(),
            params=dict(self.graph.params),
        )
        for step_run in ordered.values():
            for stored in step_run.outputs.values():
                if stored.artifact_id in self.run.values:
                    result._values[stored.artifact_id] = self.run.values[stored.artifact_id]
        if status == "failed":
            log.error("run %s failed: %s", self.run_id, self.error)
        self._finished(status, result.ended_at or time.time())
        return result

    def _finished(self, status: str, ended: float) -> None:
        steps = {name: self.run.results[name].status for name in self.graph.order if name in self.run.results}
        self.observers.run_finished(
            RunFinished(self.run_id, self.graph.name, self.stack.name, status, self.error, steps, self.started, ended)
        )

    def abort(self, exc: BaseException) -> None:
        """Record a run that stopped on an unexpected error or an interrupt (the caller re-raises it).

        Ctrl-C (``KeyboardInterrupt``) records the run ``interrupted``; anything
        else ``failed``, with a message that says what stopped it.
        """
        self.heartbeat.stop()
        if getattr(self, "run", None) is not None:
            self.run.announcer.stop()
        redact_exception(exc)  # re-raised to the caller: its message must not carry a secret
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        self.error = redact(stop_reason(exc))
        self.metadata.finish_run(self.run_id, status, self.error)
        try:
            self.routes.end_tracker("failed")
        finally:
            self.stack.close()
            self._finished(status, time.time())


def stop_reason(exc: BaseException) -> str:
    """What stopped a run, in words (``interrupted (Ctrl-C)``, ``SystemExit: exit code 3``, ``Type: message``)."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted (Ctrl-C)"
    if isinstance(exc, SystemExit):
        return f"SystemExit: exit code {exc.code}"
    return f"{type(exc).__name__}: {exc}"


def run_pipeline(
    pipeline: Any,
    *,
    params: Mapping[str, Any] | None = None,
    stack: str | None = None,
    cache: bool = True,
    target: str | None = None,
    progress: Callable[[str, str, StepRun | None], None] | None = None,
) -> PipelineRun:
    """Run ``pipeline`` (a ``@pipeline`` function or a ``Pipeline``) and return its run.

    Ctrl-C records the run ``interrupted`` and raises :class:`~flowyml.errors.RunInterrupted`.
    """
    with interrupts.watching():
        session = RunSession(pipeline, params=params, stack=stack, cache=cache, target=target, progress=progress)
        try:
            session.orchestrate()
        except KeyboardInterrupt as exc:
            session.abort(exc)
            raise RunInterrupted(session.run_id) from exc
        except BaseException as exc:
            session.abort(exc)
            raise
        return session.finish()


def run_remote_step(stack_name: str, snapshot_uri: str, step: str) -> int:
    """Run one step of a remote run, as an orchestrator's container does; return the process exit code.

    The pipeline is rebuilt from the run snapshot, the upstream steps' outputs
    are found in their step records, the step runs and stores its outputs
    (recorded only: the client logs, registers and tells observers when it
    collects this step's record), and the step's own record is written.
    """
    from flowyml.runner.targets import load_target

    stack = prepare_stack(stack_name, shared_metadata=False)
    snapshot = records.read_snapshot(stack, snapshot_uri)
    run_id = snapshot["run_id"]
    graph = load_target(snapshot["target"]).build(snapshot.get("params") or {})
    if step not in graph.nodes:
        raise PipelineError(f"pipeline {graph.name!r} has no step {step!r}; steps: {', '.join(graph.order)}")
    answered = records.read_json(stack, records.record_key(run_id, step, True))
    if answered is not None and answered.get("status") == "cached":
        stack.close()  # the client answered this step from the cache before launching: nothing to run
        print(f"flowyml: step {step!r} is answered from the cache (run {answered.get('cached_from')})", file=sys.stderr)
        return 0
    metadata = MetadataStore.for_project(stack.project_dir, EMBEDDED)
    info = RunInfo(run_id, graph.name, stack.name, str(stack.project_dir), {})
    routes = RouteExecutor(stack, metadata, info, NoObservers(), deferred=True)
    settings = {name: StepSettings.from_dict(value) for name, value in (snapshot.get("settings") or {}).items() if name in graph.nodes}
    previous = None
    if step in settings:
        # An earlier container of this step (its platform retried it) left its attempts: continue the count.
        previous = records.read_step_record(stack, run_id, step)
        if os.environ.get(PLATFORM_RETRIES_ENV) == "1":
            settings[step] = attrs.evolve(settings[step], retries=0)  # the platform retries: one attempt per container
    run = OrchestratedRun(graph, stack, metadata, info, routes, bool(snapshot.get("cache", True)), settings=settings)
    run.verify_hits = True  # a result found here is served only when its outputs verify
    if previous is not None:
        earlier = records.step_run_of(previous).attempts
        run.attempts[step] = list(earlier)
        run.first_attempt[step] = len(earlier) + 1
    for upstream in graph.nodes[step].upstream:
        record = records.read_step_record(stack, run_id, upstream)
        if record is None or record.get("status") not in ("completed", "cached"):
            raise PipelineError(f"step {step!r} needs upstream step {upstream!r}, which has not completed in run {run_id}")
        run.results[upstream] = records.step_run_of(record)
    result = run.execute_step(step)
    inputs = {row["input_name"]: row["artifact_id"] for row in metadata.inputs_of(run_id, step)}
    try:
        records.write_step_record(stack, run_id, result, run.cache_keys.get(step), inputs, cached_from=run.cached_from.get(step))
        _index(run, step)
    except FlowymlError as exc:
        print(f"flowyml: could not write the step record: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.close()
    if result.status not in ("completed", "cached"):
        print(f"flowyml: step {step!r} failed: {result.error}", file=sys.stderr)
        return 1
    return 0


def _index(run: OrchestratedRun, step: str) -> None:
    """Record a completed step in the artifact store's cache index, where the next client looks (a failure only costs a cache hit)."""
    try:
        run.index_result(step)
    except FlowymlError as exc:
        print(f"flowyml: warning: could not record step {step!r} in the cache index: {exc}", file=sys.stderr)
