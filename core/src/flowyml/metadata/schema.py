"""The metadata database's tables, as SQLAlchemy Core ``Table`` objects.

One definition serves both engines; :func:`tables_for` builds it for one
dialect. Two things differ by engine:

- insertion order: SQLite tables have an implicit ``rowid``; PostgreSQL tables
  get a ``row_seq`` identity column instead (:attr:`Tables.order_of` names the
  one to sort on);
- ids are compared bytewise: prefix lookups turn into ranges
  (:mod:`flowyml.metadata.prefix`), which only hold under a binary collation,
  SQLite's default and ``COLLATE "C"`` on PostgreSQL.

:data:`SCHEMA_VERSION` is the version this FlowyML writes;
:mod:`flowyml.metadata.migrations` upgrades older databases to it.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Float,
    Identity,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    literal_column,
)

#: v1: the first schema; v2: run owners and heartbeats; v3: who (user) and where (host) a run was started,
#: and the attempts of steps with retries or a timeout (a new table: created when missing).
SCHEMA_VERSION = 3


class Tables:
    """The tables of one dialect, as attributes (``tables.runs``), and how to sort them by insertion."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.metadata = MetaData()
        postgres = dialect == "postgresql"
        ident = Text(collation="C") if postgres else Text()
        self._row_seq = postgres

        def table(name: str, *columns: Any, **kw: Any) -> Table:
            extra = (Column("row_seq", BigInteger, Identity(always=False)),) if postgres and name not in _OWN_ORDER else ()
            return Table(name, self.metadata, *columns, *extra, **kw)

        self.meta = table("meta", Column("key", Text, primary_key=True), Column("value", Text))
        self.runs = table(
            "runs",
            Column("run_id", ident, primary_key=True),
            Column("pipeline_name", ident, nullable=False),
            Column("stack_name", Text, nullable=False),
            Column("stack_reason", Text),
            Column("status", Text, nullable=False),
            Column("started_at", Float),
            Column("ended_at", Float),
            Column("params", Text),
            Column("error", Text),
            Column("target", Text),
            # v2
            Column("owner_host", Text),
            Column("owner_pid", Integer),
            Column("owner_started", Text),
            Column("owner_scope", Text),
            Column("heartbeat_at", Float),
            # v3
            Column("user", Text),
            Column("host", Text),
        )
        self.steps = table(
            "steps",
            Column("run_id", ident, primary_key=True),
            Column("step_name", Text, primary_key=True),
            Column("status", Text, nullable=False),
            Column("started_at", Float),
            Column("ended_at", Float),
            Column("cache_key", Text),
            Column("cached_from", Text),
            Column("error", Text),
        )
        self.artifacts = table(
            "artifacts",
            Column("artifact_id", ident, primary_key=True),
            Column("run_id", ident, nullable=False),
            Column("step_name", Text, nullable=False),
            Column("output_name", Text, nullable=False),
            Column("artifact_type", Text, nullable=False),
            Column("python_type", Text),
            Column("uri", Text, nullable=False),
            Column("content_hash", Text, nullable=False),
            Column("size", BigInteger),
            Column("serializer", Text),
            Column("created_at", Float),
            Column("info", Text),
        )
        self.step_outputs = table(
            "step_outputs",
            Column("run_id", ident, primary_key=True),
            Column("step_name", Text, primary_key=True),
            Column("output_name", Text, primary_key=True),
            Column("artifact_id", ident, nullable=False),
        )
        self.consumptions = table(
            "consumptions",
            Column("run_id", ident, nullable=False),
            Column("step_name", Text, nullable=False),
            Column("input_name", Text, nullable=False),
            Column("artifact_id", ident, nullable=False),
        )
        self.route_events = table(
            "route_events",
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("run_id", ident, nullable=False),
            Column("step_name", Text),
            Column("artifact_id", Text),
            Column("action", Text, nullable=False),
            Column("target", Text),
            Column("status", Text, nullable=False),
            Column("detail", Text),
            Column("created_at", Float),
            sqlite_autoincrement=True,
        )
        self.step_attempts = table(
            "step_attempts",
            Column("run_id", ident, primary_key=True),
            Column("step_name", Text, primary_key=True),
            Column("attempt", Integer, primary_key=True),
            Column("status", Text, nullable=False),
            Column("started_at", Float),
            Column("ended_at", Float),
            Column("error", Text),
        )
        self.model_versions = table(
            "model_versions",
            Column("name", Text, primary_key=True),
            Column("version", Text, primary_key=True),
            Column("seq", Integer, nullable=False),
            Column("record", Text, nullable=False),
            Column("status", Text, nullable=False),
            Column("created_at", Float),
        )
        self.deployments = table(
            "deployments",
            Column("endpoint_name", Text, primary_key=True),
            Column("model_name", Text, nullable=False),
            Column("model_version", Text, nullable=False),
            Column("status", Text, nullable=False),
            Column("url", Text),
            Column("pid", Integer),
            Column("record", Text),
            Column("created_at", Float),
        )
        self.tracker_runs = table(
            "tracker_runs",
            Column("run_id", ident, primary_key=True),
            Column("pipeline_name", Text),
            Column("stack_name", Text),
            Column("status", Text),
            Column("started_at", Float),
            Column("ended_at", Float),
        )
        self.tracker_metrics = table(
            "tracker_metrics",
            Column("run_id", ident, nullable=False),
            Column("step_name", Text),
            Column("key", Text, nullable=False),
            Column("value", Float),
            Column("step", Integer),
            Column("metadata", Text),
            Column("logged_at", Float),
        )
        self.tracker_params = table(
            "tracker_params",
            Column("run_id", ident, nullable=False),
            Column("step_name", Text),
            Column("key", Text, nullable=False),
            Column("value", Text),
        )
        # The indexes every listing and lookup of past runs reads through (tests/test_query_plans.py
        # checks that none of them scans a whole table). Created on open when missing, so an older
        # database gains them the first time a newer FlowyML opens it; an index changes no row.
        t = self
        self.indexes: tuple[Index, ...] = (
            Index("steps_cache", t.steps.c.cache_key, t.steps.c.status),
            Index("artifacts_run", t.artifacts.c.run_id, t.artifacts.c.step_name),
            Index("runs_started", t.runs.c.started_at),
            Index("runs_pipeline", t.runs.c.pipeline_name, t.runs.c.started_at),
            Index("runs_status", t.runs.c.status, t.runs.c.started_at),
            Index("runs_pipeline_status", t.runs.c.pipeline_name, t.runs.c.status, t.runs.c.started_at),
            Index("artifacts_created", t.artifacts.c.created_at),
            Index("step_outputs_artifact", t.step_outputs.c.artifact_id),
            Index("consumptions_run", t.consumptions.c.run_id, t.consumptions.c.step_name),
            Index("consumptions_artifact", t.consumptions.c.artifact_id),
            Index("route_events_run", t.route_events.c.run_id),
            Index("tracker_metrics_run", t.tracker_metrics.c.run_id),
            Index("tracker_params_run", t.tracker_params.c.run_id),
            Index("model_versions_seq", t.model_versions.c.name, t.model_versions.c.seq),
        )

    def order_of(self, table: Table) -> ColumnElement[Any]:
        """The column that sorts ``table``'s rows in insertion order (``rowid``, or ``row_seq`` on PostgreSQL)."""
        if table.name in _OWN_ORDER:
            return table.c.id
        if self._row_seq:
            return table.c.row_seq
        return literal_column(f"{table.name}.rowid")


#: Tables whose own key already gives insertion order.
_OWN_ORDER = frozenset({"route_events"})


@functools.cache
def tables_for(dialect: str) -> Tables:
    """The tables of ``dialect`` (``"sqlite"`` or ``"postgresql"``), built once per process."""
    return Tables(dialect)
