"""Read queries over the metadata store: finding runs and artifacts by reference, lineage.

These answer the questions :class:`flowyml.Client` and the ``runs``/``artifacts``
commands ask; they never write. Rows are ``sqlite3.Row`` objects.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from flowyml.errors import ArtifactError, RunNotFoundError
from flowyml.metadata.prefix import prefix_condition
from flowyml.metadata.status import effective_status
from flowyml.metadata.store import MetadataStore

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


def _candidates(rows: list[sqlite3.Row], describe: Any) -> str:
    shown = ", ".join(describe(r) for r in rows[:_SHOWN_CANDIDATES])
    more = f" and {len(rows) - _SHOWN_CANDIDATES} more" if len(rows) > _SHOWN_CANDIDATES else ""
    return shown + more


def resolve_run_id(db: MetadataStore, ref: str, pipeline: str | None = None) -> str:
    """The full id of the run ``ref`` names: a full id, a unique prefix, or ``"latest"``.

    ``pipeline`` narrows the search to that pipeline's runs. Raises
    :class:`RunNotFoundError` naming the candidates when ``ref`` is ambiguous,
    and the pipelines there are when ``pipeline`` has no run.
    """
    where, params = ("WHERE pipeline_name=?", (pipeline,)) if pipeline else ("", ())
    if ref == LATEST:
        rows = db.query(f"SELECT run_id FROM runs {where} ORDER BY started_at DESC, rowid DESC LIMIT 1", params)
        if not rows:
            raise no_runs_error(db, pipeline)
        return str(rows[0]["run_id"])
    exact = db.query(f"SELECT run_id FROM runs WHERE run_id=? {'AND pipeline_name=?' if pipeline else ''}", (ref, *params))
    if exact:
        return str(exact[0]["run_id"])
    within, bounds = prefix_condition("run_id", ref)
    rows = db.query(
        f"SELECT run_id, pipeline_name, status FROM runs WHERE {within} {'AND pipeline_name=?' if pipeline else ''}"
        " ORDER BY started_at DESC",
        (*bounds, *params),
    )
    if len(rows) == 1:
        return str(rows[0]["run_id"])
    of = f" of pipeline {pipeline!r}" if pipeline else ""
    if not rows:
        raise RunNotFoundError(
            f"no run {ref!r}{of} in the metadata store {db.path}",
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
    rows = db.query(
        "WITH RECURSIVE names(name) AS (SELECT MIN(pipeline_name) FROM runs"
        " UNION ALL SELECT (SELECT MIN(pipeline_name) FROM runs WHERE pipeline_name > names.name) FROM names"
        " WHERE names.name IS NOT NULL) SELECT name FROM names WHERE name IS NOT NULL"
    )
    return [r["name"] for r in rows]


def list_run_rows(
    db: MetadataStore, pipeline: str | None = None, status: str | None = None, limit: int | None = 50, offset: int = 0
) -> list[sqlite3.Row]:
    """Run rows, newest first, optionally of one pipeline and/or in one status; ``offset`` rows skipped (pages).

    ``status`` is the effective one (:func:`flowyml.metadata.status.effective_status`):
    ``running`` gives only live runs, ``crashed`` the runs whose process died.
    """
    clauses: list[str] = []
    params: list[Any] = []
    if pipeline:
        clauses.append("pipeline_name=?")
        params.append(pipeline)
    derived = status in ("running", "crashed")  # both are stored 'running': told apart below
    if status:
        clauses.append("status=?")
        params.append("running" if derived else status)
    sql = "SELECT * FROM runs" + (" WHERE " + " AND ".join(clauses) if clauses else "") + " ORDER BY started_at DESC, rowid DESC"
    if not derived and (limit is not None or offset):
        sql += " LIMIT ? OFFSET ?"
        params += [-1 if limit is None else limit, max(0, offset)]
    rows = db.query(sql, tuple(params))
    if derived:
        start = max(0, offset)
        rows = [r for r in rows if effective_status(r) == status][start : None if limit is None else start + limit]
    return rows


def run_row(db: MetadataStore, run_id: str) -> sqlite3.Row:
    rows = db.query("SELECT * FROM runs WHERE run_id=?", (run_id,))
    if not rows:
        raise RunNotFoundError(f"no run {run_id!r} in the metadata store {db.path}", hint="list runs with: flowyml runs list")
    return rows[0]


def run_params(row: sqlite3.Row) -> dict[str, Any]:
    """The parameters a run was started with."""
    return dict(json.loads(row["params"] or "{}"))


def step_rows(db: MetadataStore, run_id: str) -> list[sqlite3.Row]:
    """A run's steps in the order they ran (steps that never started last, in recorded order)."""
    return db.query(
        "SELECT * FROM steps WHERE run_id=? ORDER BY started_at IS NULL, started_at, rowid", (run_id,)
    )


def step_row(db: MetadataStore, run_id: str, step: str) -> sqlite3.Row | None:
    rows = db.query("SELECT * FROM steps WHERE run_id=? AND step_name=?", (run_id, step))
    return rows[0] if rows else None


def outputs_of(db: MetadataStore, run_id: str, step: str | None = None) -> list[sqlite3.Row]:
    """The artifacts a run's steps output (a cached step's outputs are the reused artifacts)."""
    return db.outputs_of(run_id, step)


def inputs_of(db: MetadataStore, run_id: str, step: str) -> list[sqlite3.Row]:
    """The artifacts a step consumed, with the ``input_name`` it read each as."""
    return db.inputs_of(run_id, step)


def route_event_rows(db: MetadataStore, run_id: str) -> list[sqlite3.Row]:
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
    if db.query("SELECT 1 FROM artifacts WHERE artifact_id=?", (ref,)):
        return ref
    within, bounds = prefix_condition("artifact_id", ref)
    rows = db.query(
        f"SELECT artifact_id, run_id, step_name, output_name FROM artifacts WHERE {within} ORDER BY created_at DESC",
        bounds,
    )
    if len(rows) == 1:
        return str(rows[0]["artifact_id"])
    if not rows:
        raise ArtifactError(
            f"no artifact {ref!r} in the metadata store {db.path}",
            hint="list artifacts with: flowyml artifacts list (an artifact is named by its id or a unique prefix of it)",
        )
    listed = _candidates(rows, lambda r: f"{r['artifact_id'][:16]} ({r['step_name']}.{r['output_name']} of run {r['run_id']})")
    raise ArtifactError(f"{ref!r} matches {len(rows)} artifacts: {listed}", hint="give more characters of the artifact id")


def artifact_row(db: MetadataStore, artifact_id: str) -> sqlite3.Row:
    rows = db.query("SELECT * FROM artifacts WHERE artifact_id=?", (artifact_id,))
    if not rows:
        raise ArtifactError(f"no artifact {artifact_id!r} in the metadata store {db.path}", hint="list artifacts with: flowyml artifacts list")
    return rows[0]


def consumer_rows(db: MetadataStore, artifact_id: str) -> list[sqlite3.Row]:
    """Every (run_id, step_name, input_name) that read the artifact, oldest first."""
    return db.query(
        "SELECT c.run_id, c.step_name, c.input_name FROM consumptions c LEFT JOIN steps s"
        " ON s.run_id=c.run_id AND s.step_name=c.step_name WHERE c.artifact_id=?"
        " GROUP BY c.run_id, c.step_name, c.input_name ORDER BY MIN(COALESCE(s.started_at, 0)), c.run_id",
        (artifact_id,),
    )


def runs_using_artifact(db: MetadataStore, artifact_id: str) -> list[str]:
    """Runs that produced, reused (as a cached output) or consumed the artifact."""
    rows = db.query(
        "SELECT run_id FROM artifacts WHERE artifact_id=? UNION SELECT run_id FROM step_outputs WHERE artifact_id=?"
        " UNION SELECT run_id FROM consumptions WHERE artifact_id=?",
        (artifact_id, artifact_id, artifact_id),
    )
    return sorted(r["run_id"] for r in rows)
