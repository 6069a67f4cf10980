"""What a remote run leaves in the artifact store: the run snapshot and one record per step.

The client writes the *snapshot* (pipeline target, parameters, run id, stack)
under ``.flowyml-runs/RUN/snapshot``; each remote step's container
(``flowyml step run``) writes a *step record* (status, times, error, outputs,
inputs) under ``.flowyml-runs/RUN/steps/STEP`` (``STEP.failed`` when it
failed); the client writes the record of a step it answered from the cache
before launching anything (status ``cached``, ``cached_from`` the run whose
outputs it reuses). All are small JSON artifacts stored through the stack's own store.
"""

from __future__ import annotations

import json
import time
from typing import Any

from flowyml.core.graph import PipelineGraph
from flowyml.core.settings import StepSettings
from flowyml.errors import ArtifactError, PipelineError
from flowyml.naming import check_name
from flowyml.runner.attempts import Attempt
from flowyml.runner.loading import fetch_and_read
from flowyml.runner.result import StepRun, StoredArtifact
from flowyml.serialization.artifact_io import Expected, write_artifact
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


def write_snapshot(
    stack: Stack, graph: PipelineGraph, run_id: str, target: str | None, cache: bool, settings: dict[str, StepSettings] | None = None
) -> str:
    """Write the run snapshot a remote step rebuilds the run from; return its URI.

    ``settings`` are the steps' settings as the client resolved them (code and
    flowyml.yaml): a remote step runs with those, not with whatever flowyml.yaml
    its image holds.
    """
    if not target:
        raise PipelineError(
            f"pipeline {graph.name!r} cannot run on a remote orchestrator: its definition cannot be imported again",
            hint="define the pipeline at the top level of a module or file and run it with `flowyml run FILE.py:NAME`",
        )
    snapshot = {
        "run_id": run_id,
        "pipeline_name": graph.name,
        "target": target,
        "params": dict(graph.params),
        "stack": stack.name,
        "cache": cache,
        "created_at": time.time(),
        "settings": {name: value.to_dict() for name, value in (settings or {}).items() if not value.is_default()},
    }
    try:
        json.dumps(snapshot)
    except (TypeError, ValueError) as exc:
        raise PipelineError(
            f"pipeline parameters must be JSON values to run remotely: {exc}",
            hint="pass numbers, strings, lists or dicts as pipeline parameters",
        ) from exc
    return save_json(stack, snapshot_key(run_id), snapshot)


def read_snapshot(stack: Stack, uri: str) -> dict[str, Any]:
    snapshot = fetch_and_read(stack, uri, Expected(serializer="json", label=uri))
    if not isinstance(snapshot, dict) or "run_id" not in snapshot:
        raise ArtifactError(f"{uri} is not a FlowyML run snapshot")
    snapshot["run_id"] = check_name(snapshot["run_id"], f"run id in snapshot {uri}", error=ArtifactError)
    return snapshot


def read_step_record(stack: Stack, run_id: str, step: str) -> dict[str, Any] | None:
    """The record a remote step wrote (the successful one first), or None."""
    record = read_json(stack, record_key(run_id, step, True))
    if record is None:
        record = read_json(stack, record_key(run_id, step, False))
    return record


def outputs_of(record: dict[str, Any]) -> dict[str, StoredArtifact]:
    return {out: StoredArtifact.from_row({**row, "info": json.dumps(row.get("info") or {})}) for out, row in record.get("outputs", {}).items()}


def step_run_of(record: dict[str, Any]) -> StepRun:
    return StepRun(
        record["name"], record["status"], record.get("started_at"), record.get("ended_at"), record.get("error"), outputs_of(record),
        attempts=[Attempt.from_dict(a) for a in record.get("attempts") or []],
    )


def write_step_record(
    stack: Stack, run_id: str, result: StepRun, cache_key: str | None, inputs: dict[str, str], *, cached_from: str | None = None
) -> str:
    """Write a step's record; a ``cached`` step's names the run whose outputs it reuses (``cached_from``)."""
    record = {
        "name": result.name,
        "status": result.status,
        "started_at": result.started_at,
        "ended_at": result.ended_at,
        "error": result.error,
        "cache_key": cache_key,
        "outputs": {out: a.to_row() for out, a in result.outputs.items()},
        "inputs": inputs,
        "cached_from": cached_from,
        "attempts": [a.to_dict() for a in result.attempts],
    }
    return save_json(stack, record_key(run_id, result.name, result.status in ("completed", "cached")), record)
