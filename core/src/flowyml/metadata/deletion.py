"""Deleting runs: their records and, when asked, the artifacts only they use.

An artifact is kept (and the plan says why) while a run that is not being
deleted still uses it (a cached step reused it, or a step read it) or while a
registered model version points to it. Artifacts are deleted through the
``flowyml_artifact_store_delete`` hook of the stack their run used; run records
go last, so a failure leaves records that still describe what is stored.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

import attrs
from sqlalchemy import select

from flowyml.errors import StoreError
from flowyml.metadata import queries
from flowyml.metadata.status import effective_status
from flowyml.runner.result import StoredArtifact

if TYPE_CHECKING:
    from flowyml.client import Client

__all__ = ["DeletionPlan", "KeptArtifact", "delete", "old_run_ids", "plan_deletion"]

#: The tables holding one run's records, with the column naming the run.
_RUN_TABLES = ("steps", "step_attempts", "step_outputs", "consumptions", "route_events", "tracker_metrics", "tracker_params", "tracker_runs", "runs")


@attrs.frozen
class KeptArtifact:
    artifact: StoredArtifact
    reason: str


@attrs.define
class DeletionPlan:
    """What deleting ``runs`` removes: the run records, ``artifacts`` from their stores, and what is ``kept``."""

    runs: list[str]
    artifacts: list[StoredArtifact] = attrs.field(factory=list)
    kept: list[KeptArtifact] = attrs.field(factory=list)
    #: Artifact records dropped with the runs (no remaining run refers to them).
    artifact_records: list[str] = attrs.field(factory=list)


def old_run_ids(client: Client, *, older_than_days: float | None = None, keep_last: int | None = None, pipeline: str | None = None) -> list[str]:
    """Finished runs older than ``older_than_days`` and/or beyond the newest ``keep_last`` (per pipeline); never running ones."""
    rows = [r for r in queries.list_run_rows(client.metadata, pipeline=pipeline, limit=None) if effective_status(r) != "running"]  # crashed runs may go
    chosen: set[str] = set()
    if older_than_days is not None:
        cutoff = time.time() - older_than_days * 86400
        chosen |= {r["run_id"] for r in rows if (r["started_at"] or 0) < cutoff}
    if keep_last is not None:
        seen: dict[str, int] = {}
        for r in rows:  # newest first
            seen[r["pipeline_name"]] = seen.get(r["pipeline_name"], 0) + 1
            if seen[r["pipeline_name"]] > keep_last:
                chosen.add(r["run_id"])
    return [r["run_id"] for r in rows if r["run_id"] in chosen]


def plan_deletion(client: Client, run_ids: Iterable[str], *, artifacts: bool) -> DeletionPlan:
    """What deleting ``run_ids`` (full ids) removes; with ``artifacts`` the stored artifacts only they use too."""
    db = client.metadata
    runs = list(dict.fromkeys(run_ids))
    doomed = set(runs)
    plan = DeletionPlan(runs=runs)
    arts = db.t.artifacts
    produced = db.fetch(select(arts).where(arts.c.run_id.in_(runs)).order_by(arts.c.created_at)) if runs else []
    models = _model_pointers(client, runs) if artifacts and produced else {}
    for row in produced:
        stored = client._artifact(row)
        users = [r for r in queries.runs_using_artifact(db, stored.artifact_id) if r not in doomed]
        if users:
            if artifacts:
                plan.kept.append(KeptArtifact(stored, f"run {users[0]} still uses it" + (f" (and {len(users) - 1} more)" if len(users) > 1 else "")))
            continue
        plan.artifact_records.append(stored.artifact_id)
        if not artifacts:
            continue
        pointer = models.get(stored.uri)
        if pointer:
            plan.kept.append(KeptArtifact(stored, f"registered model {pointer} points to it"))
        else:
            plan.artifacts.append(stored)
    return plan


def _model_pointers(client: Client, runs: list[str]) -> dict[str, str]:
    """URI -> "name version V" for every version in the registries of the stacks these runs used."""
    db = client.metadata
    t = db.t.runs
    stacks = sorted({r["stack_name"] for r in db.fetch(select(t.c.stack_name).distinct().where(t.c.run_id.in_(runs)))})
    pointers: dict[str, str] = {}
    for name in stacks:
        if name not in client._project.stacks:
            continue  # its artifacts cannot be deleted either (stack_for_run says so)
        from flowyml.plugins.kinds import Kind

        stack = client._stack(name)
        if not stack.has(Kind.MODEL_REGISTRY):
            continue
        try:
            versions = stack.model_registry.list(None)
        except Exception as exc:
            raise StoreError(
                f"cannot check which artifacts registered models use: the model registry of stack {name!r} failed: {exc}",
                hint="delete the run records without --artifacts, or try again when the registry is reachable",
            ) from exc
        for version in versions:
            pointers.setdefault(version.uri, f"{version.name} version {version.version}")
    return pointers


def delete(client: Client, plan: DeletionPlan) -> None:
    """Carry out ``plan``: artifacts from their stores first, then the records."""
    stacks = {a.artifact_id: client.stack_for_artifact(a) for a in plan.artifacts}
    for stack in {id(s): s for s in stacks.values()}.values():
        if not stack.artifact_store.can_delete:
            from flowyml.plugins.kinds import Kind

            raise StoreError(
                f"the {stack.type_of(Kind.ARTIFACT_STORE)} artifact store of stack {stack.name!r} cannot delete artifacts "
                "(it does not implement flowyml_artifact_store_delete); nothing was deleted",
                hint="delete the run records without --artifacts",
            )
    for artifact in plan.artifacts:
        stacks[artifact.artifact_id].artifact_store.delete(artifact.uri)
    db = client.metadata
    tables = [db.t.metadata.tables[name] for name in _RUN_TABLES]
    arts = db.t.artifacts
    with db.transaction() as conn:
        for run_id in plan.runs:
            for table in tables:
                conn.execute(table.delete().where(table.c.run_id == run_id))
        for artifact_id in plan.artifact_records:
            conn.execute(arts.delete().where(arts.c.artifact_id == artifact_id))
