"""The generic step runner used by every remote orchestrator.

Client side (the process that called ``pipeline.run()``): the orchestrator
calls ``run.prepare_remote()``, which writes a *run snapshot* (pipeline
target, parameters, run id, stack) into the stack's artifact store; it then
launches ``run.step_command(step)`` for each step in its own environment (a
container), in dependency order, and finally ``run.collect_remote_results()``.

Container side: ``flowyml step run --stack S --snapshot URI --step NAME``
rebuilds the pipeline from the snapshot, reads its inputs from the records
the upstream steps wrote, runs the step, stores its outputs through the
stack's routing rules, and writes a *step record* beside the snapshot.

Back on the client, collecting the records puts every artifact and step into
the local metadata store, logs Metrics/Parameters to the tracker and queues
Models for registration, so a remote run ends up recorded exactly like a
local one.
"""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING, Any

from flowyml.core.artifacts import Model
from flowyml.errors import ArtifactError, FlowymlError, PipelineError
from flowyml.naming import check_name
from flowyml.runner.loading import fetch_and_read, read_stored
from flowyml.runner.result import StepRun, StoredArtifact
from flowyml.serialization.artifact_io import Expected, write_artifact

if TYPE_CHECKING:
    from flowyml.runner.orchestration import OrchestratedRun
    from flowyml.stacks.stack import Stack

RUNS_PREFIX = ".flowyml-runs"


def snapshot_key(run_id: str) -> str:
    return f"{RUNS_PREFIX}/{run_id}/snapshot"


def record_key(run_id: str, step: str, ok: bool) -> str:
    return f"{RUNS_PREFIX}/{run_id}/steps/{step}" + ("" if ok else ".failed")


def save_json(stack: Stack, key: str, value: Any) -> str:
    return stack.artifact_store.save(key, lambda directory: write_artifact(value, directory)).uri


def read_json(stack: Stack, key: str) -> Any | None:
    store = stack.artifact_store
    uri = store.uri(key)
    if not store.exists(uri):
        return None
    return fetch_and_read(stack, uri, Expected(serializer="json", label=key))  # a record is JSON: nothing else is read


# -- client side ---------------------------------------------------------------------------


def prepare_remote(run: OrchestratedRun) -> str:
    """Write the run snapshot to the artifact store; return its URI."""
    if not run.target:
        raise PipelineError(
            f"pipeline {run.graph.name!r} cannot run on a remote orchestrator: its definition cannot be imported again",
            hint="define the pipeline at the top level of a module or file and run it with `flowyml run FILE.py:NAME`",
        )
    snapshot = {
        "run_id": run.run_id,
        "pipeline_name": run.graph.name,
        "target": run.target,
        "params": {k: v for k, v in run.graph.params.items()},
        "stack": run.stack.name,
        "cache": run.cache,
        "created_at": time.time(),
    }
    try:
        json.dumps(snapshot)
    except (TypeError, ValueError) as exc:
        raise PipelineError(
            f"pipeline parameters must be JSON values to run remotely: {exc}",
            hint="pass numbers, strings, lists or dicts as pipeline parameters",
        ) from exc
    run.snapshot_uri = save_json(run.stack, snapshot_key(run.run_id), snapshot)
    return run.snapshot_uri


def step_command(run: OrchestratedRun, step: str) -> list[str]:
    if not run.snapshot_uri:
        raise PipelineError("call run.prepare_remote() before asking for step commands")
    return ["flowyml", "step", "run", "--stack", run.stack.name, "--snapshot", run.snapshot_uri, "--step", step]


def step_env(run: OrchestratedRun) -> dict[str, str]:
    return {"FLOWYML_STACK": run.stack.name, "FLOWYML_RUN_ID": run.run_id}


def collect_remote_results(run: OrchestratedRun) -> None:
    """Read every step record back into this run (artifacts, statuses, tracker logs, pending models)."""
    for name in run.steps:
        record = read_json(run.stack, record_key(run.run_id, name, True))
        if record is None:
            record = read_json(run.stack, record_key(run.run_id, name, False))
        if record is None:
            if name not in run.results:
                run.skip_step(name, "the remote orchestrator did not run this step")
            continue
        outputs = {out: StoredArtifact.from_row(_row(row)) for out, row in record.get("outputs", {}).items()}
        result = StepRun(name, record["status"], record.get("started_at"), record.get("ended_at"), record.get("error"), outputs)
        run.metadata.record_step(
            run.run_id, name, result.status, started_at=result.started_at, ended_at=result.ended_at,
            cache_key=record.get("cache_key"), error=result.error,
        )
        for param, artifact_id in record.get("inputs", {}).items():
            run.metadata.record_consumption(run.run_id, name, param, artifact_id)
        for out, stored in outputs.items():
            run.metadata.add_artifact(stored.to_row(), run.run_id, name, out)
            _after_remote_store(run, stored, name)
        run.results[name] = result
        run._notify(name, result.status, result)


def _row(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "info": json.dumps(row.get("info") or {})}


def _after_remote_store(run: OrchestratedRun, stored: StoredArtifact, step: str) -> None:
    routes = run.routes
    rule = routes.stack.config.rule_for(stored.artifact_type)
    if stored.artifact_type in ("Metrics", "Parameters"):
        value = read_stored(run.stack, stored)
        routes.after_store(value, stored, step)
    elif stored.artifact_type == "Model" and rule is not None and rule.register:
        info = dict(stored.info)
        info["framework"] = info.get("framework") or "unknown"
        model = Model.restore(None, info)  # its description only: registration needs no model object
        routes.after_store(model, stored, step)


# -- container side -------------------------------------------------------------------------


def run_remote_step(stack_name: str, snapshot_uri: str, step: str) -> int:
    """Run one step as a remote orchestrator's container does. Returns the process exit code."""
    from flowyml.metadata.store import MetadataStore
    from flowyml.plugins.types import RunInfo
    from flowyml.runner.engine import prepare_stack
    from flowyml.runner.orchestration import OrchestratedRun
    from flowyml.runner.routes import RouteExecutor
    from flowyml.runner.targets import load_target

    stack = prepare_stack(stack_name)
    snapshot = fetch_and_read(stack, snapshot_uri, Expected(serializer="json", label=snapshot_uri))
    if not isinstance(snapshot, dict) or "run_id" not in snapshot:
        raise ArtifactError(f"{snapshot_uri} is not a FlowyML run snapshot")
    run_id = check_name(snapshot["run_id"], f"run id in snapshot {snapshot_uri}", error=ArtifactError)
    pipeline = load_target(snapshot["target"])
    graph = pipeline.build(snapshot.get("params") or {})
    if step not in graph.nodes:
        raise PipelineError(f"pipeline {graph.name!r} has no step {step!r}; steps: {', '.join(graph.order)}")
    metadata = MetadataStore.for_project(stack.project_dir)
    info = RunInfo(run_id, graph.name, stack.name, str(stack.project_dir), {})
    routes = RouteExecutor(stack, metadata, info, deferred=True)
    run = OrchestratedRun(graph, stack, metadata, info, routes, bool(snapshot.get("cache", True)))
    for upstream in graph.nodes[step].upstream:
        record = read_json(stack, record_key(run_id, upstream, True))
        if record is None or record.get("status") not in ("completed", "cached"):
            raise PipelineError(f"step {step!r} needs upstream step {upstream!r}, which has not completed in run {run_id}")
        outputs = {out: StoredArtifact.from_row(_row(row)) for out, row in record["outputs"].items()}
        run.results[upstream] = StepRun(upstream, record["status"], outputs=outputs)
    result = run.execute_step(step)
    inputs = {row["input_name"]: row["artifact_id"] for row in metadata.inputs_of(run_id, step)}
    record = {
        "name": step,
        "status": result.status,
        "started_at": result.started_at,
        "ended_at": result.ended_at,
        "error": result.error,
        "cache_key": run.cache_keys.get(step),
        "outputs": {out: {**a.to_row()} for out, a in result.outputs.items()},
        "inputs": inputs,
    }
    ok = result.status in ("completed", "cached")
    try:
        save_json(stack, record_key(run_id, step, ok), record)
    except FlowymlError as exc:
        print(f"flowyml: could not write the step record: {exc}", file=sys.stderr)
        return 1
    if not ok:
        print(f"flowyml: step {step!r} failed: {result.error}", file=sys.stderr)
        return 1
    return 0
