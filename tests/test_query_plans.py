"""Every listing and lookup of past runs reads through an index, never a whole table.

The statements are not listed by hand: the test records every SELECT the
metadata store's connection executes while the ``runs``/``artifacts`` commands
and :class:`flowyml.Client` list and look up runs, steps, artifacts, lineage,
route events and tracker records, then asks SQLite for the plan of each
(``EXPLAIN QUERY PLAN``). A plan that scans a table that grows with history
fails, unless the scan walks an index in order and stops at a LIMIT (the
newest N runs). A query added later without an index fails here the same way.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from flowyml import Client, Metrics, pipeline, step
from flowyml.cli.main import cli
from flowyml.metadata import queries
from flowyml.metadata.schema import tables_for
from flowyml.metadata.store import MetadataStore

#: Tables with rows per run, step, artifact or event: these must never be read whole.
GROWING = {
    "runs", "steps", "artifacts", "step_outputs", "consumptions", "route_events",
    "tracker_runs", "tracker_metrics", "tracker_params", "model_versions",
}


@step
def numbers(count: int = 3) -> list:
    return list(range(count))


@step
def total(values: list) -> Metrics:
    return Metrics({"total": float(sum(values))})


@pipeline
def adding(count: int = 3) -> None:
    total(numbers(count))


@step
def broken(values: list) -> int:
    raise ValueError("no")


@pipeline
def failing() -> None:
    broken(numbers())


def _cli(*args: str) -> str:
    done = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return done.output


def _scans(conn: sqlite3.Connection, sql: str) -> list[str]:
    """The plan lines of ``sql`` that read a growing table whole."""
    bad = []
    for row in conn.execute("EXPLAIN QUERY PLAN " + sql):
        detail = row[3]
        found = re.match(r"SCAN (\w+)", detail)
        if not found or found.group(1) not in GROWING:
            continue
        if "USING" in detail and "INDEX" in detail and re.search(r"\bLIMIT\b", sql, re.I):
            continue  # newest-first through an index, stopping after LIMIT rows
        bad.append(detail)
    return bad


def _history_queries(db: MetadataStore) -> Iterator[str]:
    """Run every read the CLI and the Client make over past runs, yielding each SELECT executed."""
    seen: list[str] = []
    db._conn.set_trace_callback(seen.append)
    try:
        client = Client()
        client.get_run()  # latest
        run = client.get_run("latest", pipeline="adding")
        client.get_run(run.run_id[:-3])  # a prefix
        client.get_run(run.run_id, pipeline="adding")
        client.get_run("latest", pipeline="adding")
        client.list_runs()
        client.list_runs(pipeline="adding")
        client.list_runs(status="failed")
        client.list_runs(pipeline="adding", status="completed", limit=5)
        client.pipeline_names()
        with pytest.raises(Exception, match="no pipeline named"):
            client.list_runs(pipeline="nothing")
        arts = client.list_artifacts()
        client.list_artifacts(run="latest")
        art = client.get_artifact(arts[0].artifact_id[:8])
        client.producer_of(art)
        client.consumers_of(art)
        queries.runs_using_artifact(db, art.artifact_id)
        for r in client.list_runs():
            queries.route_event_rows(db, r.run_id)
            queries.step_rows(db, r.run_id)
        db.get_run(run.run_id[:-3])
        db.get_artifact(art.artifact_id[:8])
        db.list_runs(pipeline="adding")
        db.list_artifacts()
        _cli("runs", "list")
        _cli("runs", "list", "--pipeline", "adding", "--status", "completed")
        _cli("runs", "list", "--status", "failed")
        _cli("runs", "show")
        _cli("runs", "show", run.run_id[:-3])
        _cli("artifacts", "list")
        _cli("artifacts", "list", "--run", "latest")
        _cli("artifacts", "show", art.artifact_id[:10], "--no-preview")
        _cli("artifacts", "lineage", art.artifact_id[:10])
    finally:
        db._conn.set_trace_callback(None)
    yield from dict.fromkeys(s for s in seen if s.lstrip().upper().startswith(("SELECT", "WITH")))


def test_every_history_query_reads_through_an_index(project) -> None:
    for count in (2, 3, 4):
        adding.run(count=count)
    assert failing.run().status == "failed"
    db = MetadataStore.for_project(project.path)
    issued = list(_history_queries(db))
    assert len(issued) >= 15, issued  # the recording works: the reads above were seen
    for table in ("runs", "steps", "artifacts", "step_outputs", "consumptions", "route_events", "tracker_metrics"):
        assert any(re.search(rf"\b{table}\b", s) for s in issued), f"no query of {table} was exercised"
    scans = {sql: bad for sql in issued if (bad := _scans(db._conn, sql))}
    assert not scans, "queries that read a whole table:\n" + "\n".join(f"{sql}\n    {bad}" for sql, bad in scans.items())


def test_an_older_database_gains_the_indexes_on_open(tmp_path) -> None:
    path = tmp_path / "metadata.db"
    MetadataStore(path).close()
    names = [index.name for index in tables_for("sqlite").indexes]
    conn = sqlite3.connect(path)
    for name in names:
        conn.execute(f"DROP INDEX {name}")
    conn.commit()
    conn.close()
    reopened = MetadataStore(path)
    have = {r["name"] for r in reopened.query("SELECT name FROM sqlite_master WHERE type='index'")}
    assert set(names) <= have
