"""Running a pipeline: choose and check the stack, hand the graph to its orchestrator, finish the routes."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Mapping
from typing import Any

from flowyml.config.loader import load_project, resolve_stack_name
from flowyml.errors import PluginError
from flowyml.metadata.store import MetadataStore
from flowyml.plugins.kinds import Kind
from flowyml.plugins.types import RunInfo
from flowyml.routing.validate import validate_stack
from flowyml.runner.orchestration import OrchestratedRun
from flowyml.runner.result import PipelineRun
from flowyml.runner.routes import RouteExecutor
from flowyml.stacks.stack import Stack

log = logging.getLogger("flowyml.run")


def new_run_id(pipeline_name: str) -> str:
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


def prepare_stack(explicit: str | None) -> Stack:
    """Choose the stack (precedence rules), validate its routing, and build its components.

    Everything that can be wrong with a stack fails here, before any step runs.
    """
    project = load_project()
    choice = resolve_stack_name(project, explicit)
    config = project.stack(choice.name)
    validate_stack(project, config)
    stack = Stack(project, config, choice.reason)
    metadata = MetadataStore.for_project(project.project_dir)
    stack.attach_metadata(metadata)
    stack.plugin_manager  # noqa: B018 - import backends, resolve ${VAR}s, validate options now
    return stack


def run_pipeline(
    pipeline: Any,
    *,
    params: Mapping[str, Any] | None = None,
    stack: str | None = None,
    cache: bool = True,
    target: str | None = None,
    progress: Any = None,
) -> PipelineRun:
    """Run ``pipeline`` (a ``@pipeline`` function or a ``Pipeline``) and return its run."""
    graph = pipeline.build(dict(params or {}))
    active = prepare_stack(stack)
    metadata = MetadataStore.for_project(active.project_dir)
    run_id = new_run_id(graph.name)
    info = RunInfo(
        run_id=run_id,
        pipeline_name=graph.name,
        stack_name=active.name,
        project_dir=str(active.project_dir),
        tags={"flowyml.run_id": run_id, "flowyml.pipeline": graph.name, "flowyml.stack": active.name},
    )
    if target is None:
        from flowyml.runner.targets import target_of

        target = target_of(pipeline, active.project_dir)
    started = time.time()
    metadata.start_run(run_id, graph.name, active.name, active.reason, graph.params, target)
    routes = RouteExecutor(active, metadata, info)
    orchestrated = OrchestratedRun(graph, active, metadata, info, routes, cache, target)
    if progress is not None:
        orchestrated.progress = progress
    error: str | None = None
    try:
        routes.start_tracker()
        if routes.failed:
            error = "the experiment tracker could not start the run (see the route events)"
            for name in graph.order:
                orchestrated.skip_step(name, error)
        else:
            handled = active.hook.flowyml_orchestrator_run(run=orchestrated)
            if not handled:
                raise PluginError(
                    f"orchestrator {active.type_of(Kind.ORCHESTRATOR)!r} of stack {active.name!r} did not run the pipeline"
                )
        steps_ok = all(r.status in ("completed", "cached") for r in orchestrated.results.values()) and len(
            orchestrated.results
        ) == len(graph.nodes)
        routes.finalize_models(steps_ok)
        failed_steps = [r.name for r in orchestrated.results.values() if r.status == "failed"]
        if failed_steps and error is None:
            first = orchestrated.results[failed_steps[0]]
            error = f"step {first.name!r} failed: {first.error}"
        elif routes.failed and error is None:
            failures = [e.detail for e in routes.events if e.status == "failed"]
            error = "routing failed: " + (failures[0] if failures else "see the route events")
        status = "completed" if steps_ok and not routes.failed and error is None else "failed"
    except BaseException as exc:
        status = "failed"
        error = f"{type(exc).__name__}: {exc}"
        metadata.finish_run(run_id, status, error)
        routes.end_tracker(status)
        active.close()
        raise
    routes.end_tracker(status)
    metadata.finish_run(run_id, status, error)
    active.close()
    ordered = {name: orchestrated.results[name] for name in graph.order if name in orchestrated.results}
    run = PipelineRun(
        run_id=run_id,
        pipeline_name=graph.name,
        stack_name=active.name,
        status=status,
        steps=ordered,
        events=list(routes.events),
        error=error,
        started_at=started,
        ended_at=time.time(),
    )
    for step_run in ordered.values():
        for stored in step_run.outputs.values():
            if stored.artifact_id in orchestrated.values:
                run._values[stored.artifact_id] = orchestrated.values[stored.artifact_id]
    if status == "failed":
        log.error("run %s failed: %s", run_id, error)
    return run
