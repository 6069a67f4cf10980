"""Read queries over the metadata store: finding runs and artifacts by reference, lineage.

These answer the questions :class:`flowyml.Client` and the ``runs``/``artifacts``
commands ask; they never write. Rows are mappings by column name
(:data:`flowyml.metadata.store.Row`), the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select, union

from flowyml.errors import ArtifactError, RunNotFoundError
from flowyml.metadata.status import effective_status
from flowyml.metadata.store import MetadataStore, Row

__all__ = [
    "LATEST",
    "TRACEBACK_START",
    "artifact_row",
    "consumer_rows",
    "inputs_of",
    "list_run_rows",
    "no_runs_error",
    "outputs_of",
    "pipeline_names",
    "resolve_artifact_id",
    "resolve_run_id",
    "route_event_rows",
    "run_params",
    "runs_using_artifact",
    "split_traceback",
    "step_rows",
]

#: The run reference that means "the newest run".
LATEST = "latest"
#: How a stored step error marks the start of its traceback.
TRACEBACK_START = "Traceback (most recent call last):"
_SHOWN_CANDIDATES = 5


def _candidates(rows: list[Row], describe: Any) -> str:
    shown = ", ".join(describe(r) for r in rows[:_SHOWN_CANDIDATES])
    more = f" and {len(rows) - _SHOWN_CANDIDATES} more" if len(rows) > _SHOWN_CANDIDATES else ""
    return shown + more


def resolve_run_id(db: MetadataStore, ref: str, pipeline: str | None = None) -> str:
    """The full id of the run ``ref`` names: a full id, a unique prefix, or ``"latest"``.

    ``pipeline`` narrows the search to that pipeline's runs. Raises
    :class:`RunNotFoundError` naming the candidates when ``ref`` is ambiguous,
    and the pipelines there are when ``pipeline`` has no run.
    """
    runs = db.t.runs
    mine = (runs.c.pipeline_name == pipeline,) if pipeline else ()
    if ref == LATEST:
        rows = db.fetch(select(runs.c.run_id).where(*mine).order_by(runs.c.started_at.desc(), db.t.order_of(runs).desc()).limit(1))
        if not rows:
            raise no_runs_error(db, pipeline)
        return str(rows[0]["run_id"])
    exact = db.fetch(select(runs.c.run_id).where(runs.c.run_id == ref, *mine))
    if exact:
        return str(exact[0]["run_id"])
    rows = db.fetch(
        select(runs.c.run_id, runs.c.pipeline_name, runs.c.status)
        .where(db.prefix_of(runs.c.run_id, ref), *mine)
        .order_by(runs.c.started_at.desc())
    )
    if len(rows) == 1:
        return str(rows[0]["run_id"])
    of = f" of pipeline {pipeline!r}" if pipeline else ""
    if not rows:
        raise RunNotFoundError(
            f"no run {ref!r}{of} in the metadata store {db.display}",
            hint="list runs with: flowyml runs list (a run is named by its id, a unique prefix of it, or 'latest')",
        )
    listed = _candidates(rows, lambda r: f"{r['run_id']} ({r['pipeline_name']}, {r['status']})")
    raise RunNotFoundError(
        f"{ref!r} matches {len(rows)} runs{of}: {listed}",
        hint="give more characters of the run id",
    )


def no_runs_error(db: MetadataStore, pipeline: str | None) -> RunNotFoundError:
    """The error for "nothing to show": no run at all, or no pipeline of that name (naming the ones there are)."""
    if pipeline:
        names = pipeline_names(db)
        known = f"; pipelines with runs: {', '.join(names)}" if names else ""
        return RunNotFoundError(f"there is no pipeline named {pipeline!r} in this project's runs{known}", hint="check the pipeline name")
    return RunNotFoundError("no runs yet in this project", hint="start one with: flowyml run PIPELINE.py")


def pipeline_names(db: MetadataStore) -> list[str]:
    """The names of the pipelines that have at least one run."""
    # One index lookup per name (a skip scan of runs_pipeline), not a pass over every run.
    rows = db.raw_text(
        "WITH RECURSIVE names(name) AS (SELECT MIN(pipeline_name) FROM runs"
        " UNION ALL SELECT (SELECT MIN(pipeline_name) FROM runs WHERE pipeline_name > names.name) FROM names"
        " WHERE names.name IS NOT NULL) SELECT name FROM names WHERE name IS NOT NULL"
    )
    return [r["name"] for r in rows]


def list_run_rows(
    db: MetadataStore, pipeline: str | None = None, status: str | None = None, limit: int | None = 50, offset: int = 0
) -> list[Row]:
    """Run rows, newest first, optionally of one pipeline and/or in one status; ``offset`` rows skipped (pages).

    ``status`` is the effective one (:func:`flowyml.metadata.status.effective_status`):
    ``running`` gives only live runs, ``crashed`` the runs whose process died.
    """
    runs = db.t.runs
    query = select(runs).order_by(runs.c.started_at.desc(), db.t.order_of(runs).desc())
    if pipeline:
        query = query.where(runs.c.pipeline_name == pipeline)
    derived = status in ("running", "crashed")  # both are stored 'running': told apart below
    if status:
        query = query.where(runs.c.status == ("running" if derived else status))
    if not derived and (limit is not None or offset):
        query = query.limit(limit).offset(max(0, offset))
    rows = db.fetch(query)
    if derived:
        start = max(0, offset)
        rows = [r for r in rows if effective_status(r) == status][start : None if limit is None else start + limit]
    return rows


def run_row(db: MetadataStore, run_id: str) -> Row:
    rows = db.fetch(select(db.t.runs).where(db.t.runs.c.run_id == run_id))
    if not rows:
        raise RunNotFoundError(f"no run {run_id!r} in the metadata store {db.display}", hint="list runs with: flowyml runs list")
    return rows[0]


def run_params(row: Row) -> dict[str, Any]:
    """The parameters a run was started with."""
    return dict(json.loads(row["params"] or "{}"))


def step_rows(db: MetadataStore, run_id: str) -> list[Row]:
    """A run's steps in the order they ran (steps that never started last, in recorded order)."""
    return db.step_rows(run_id)


def step_row(db: MetadataStore, run_id: str, step: str) -> Row | None:
    rows = db.step_rows(run_id, step)
    return rows[0] if rows else None


def outputs_of(db: MetadataStore, run_id: str, step: str | None = None) -> list[Row]:
    """The artifacts a run's steps output (a cached step's outputs are the reused artifacts)."""
    return db.outputs_of(run_id, step)


def inputs_of(db: MetadataStore, run_id: str, step: str) -> list[Row]:
    """The artifacts a step consumed, with the ``input_name`` it read each as."""
    return db.inputs_of(run_id, step)


def route_event_rows(db: MetadataStore, run_id: str) -> list[Row]:
    return db.route_events(run_id)


def split_traceback(stored: str | None) -> tuple[str | None, str | None]:
    """A stored step error as (one-line message, traceback text or None)."""
    if not stored:
        return stored, None
    at = stored.find(TRACEBACK_START)
    if at < 0:
        return stored.strip(), None
    message = stored[:at].strip()
    return message, stored[at:].rstrip() + "\n"


def resolve_artifact_id(db: MetadataStore, ref: str) -> str:
    """The full id of the artifact ``ref`` names (an id or a unique prefix of one)."""
    if db.artifact_exists(ref):
        return ref
    arts = db.t.artifacts
    rows = db.fetch(
        select(arts.c.artifact_id, arts.c.run_id, arts.c.step_name, arts.c.output_name)
        .where(db.prefix_of(arts.c.artifact_id, ref))
        .order_by(arts.c.created_at.desc())
    )
    if len(rows) == 1:
        return str(rows[0]["artifact_id"])
    if not rows:
        raise ArtifactError(
            f"no artifact {ref!r} in the metadata store {db.display}",
            hint="list artifacts with: flowyml artifacts list (an artifact is named by its id or a unique prefix of it)",
        )
    listed = _candidates(rows, lambda r: f"{r['artifact_id'][:16]} ({r['step_name']}.{r['output_name']} of run {r['run_id']})")
    raise ArtifactError(f"{ref!r} matches {len(rows)} artifacts: {listed}", hint="give more characters of the artifact id")


def artifact_row(db: MetadataStore, artifact_id: str) -> Row:
    rows = db.fetch(select(db.t.artifacts).where(db.t.artifacts.c.artifact_id == artifact_id))
    if not rows:
        raise ArtifactError(f"no artifact {artifact_id!r} in the metadata store {db.display}", hint="list artifacts with: flowyml artifacts list")
    return rows[0]


def consumer_rows(db: MetadataStore, artifact_id: str) -> list[Row]:
    """Every (run_id, step_name, input_name) that read the artifact, oldest first."""
    c, s = db.t.consumptions, db.t.steps
    return db.fetch(
        select(c.c.run_id, c.c.step_name, c.c.input_name)
        .select_from(c.outerjoin(s, (s.c.run_id == c.c.run_id) & (s.c.step_name == c.c.step_name)))
        .where(c.c.artifact_id == artifact_id)
        .group_by(c.c.run_id, c.c.step_name, c.c.input_name)
        .order_by(func.min(func.coalesce(s.c.started_at, 0)), c.c.run_id)
    )


def runs_using_artifact(db: MetadataStore, artifact_id: str) -> list[str]:
    """Runs that produced, reused (as a cached output) or consumed the artifact."""
    t = db.t
    rows = db.fetch(
        union(
            select(t.artifacts.c.run_id).where(t.artifacts.c.artifact_id == artifact_id),
            select(t.step_outputs.c.run_id).where(t.step_outputs.c.artifact_id == artifact_id),
            select(t.consumptions.c.run_id).where(t.consumptions.c.artifact_id == artifact_id),
        )
    )
    return sorted(r["run_id"] for r in rows)
