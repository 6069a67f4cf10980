"""The statements a run writes for every step, built and compiled once per dialect.

A run writes several rows per step. Building a SQLAlchemy statement
(``insert(...).values(...)``, an upsert's ``excluded``) costs far more than
executing it, and even a cached statement costs SQLAlchemy's execution
machinery about 100 us a call: more than SQLite takes to commit the row. So the
per-step writes are built once from the tables of :mod:`flowyml.metadata.schema`,
compiled once for the store's dialect (:class:`Prepared`), and handed to the
driver's cursor with their values. Reads, and everything written once per run
or less, go through SQLAlchemy as usual.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Dialect, bindparam, func, select
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

from flowyml.metadata.schema import Tables

__all__ = ["Prepared", "PreparedWrites", "Statements"]


class Statements:
    """Prebuilt statements over one dialect's :class:`~flowyml.metadata.schema.Tables`."""

    def __init__(self, t: Tables) -> None:
        insert = sqlite_dialect.insert if t.dialect == "sqlite" else pg_dialect.insert
        runs, steps = t.runs, t.steps

        self.insert_run = runs.insert()
        self.heartbeat = (
            runs.update().where(runs.c.run_id == bindparam("rid"), runs.c.status == "running").values(heartbeat_at=bindparam("at"))
        )
        self.finish_run = (
            runs.update()
            .where(runs.c.run_id == bindparam("rid"))
            .values(status=bindparam("new_status"), ended_at=bindparam("at"), error=bindparam("new_error"))
        )

        step = insert(steps)
        new = step.excluded
        # A step's row is written when it starts and again when it ends: the start time and the
        # cache key of the first write survive a later write that does not know them.
        self.record_step = step.on_conflict_do_update(
            index_elements=["run_id", "step_name"],
            set_={
                "status": new.status,
                "started_at": func.coalesce(new.started_at, steps.c.started_at),
                "ended_at": new.ended_at,
                "cache_key": func.coalesce(new.cache_key, steps.c.cache_key),
                "cached_from": new.cached_from,
                "error": new.error,
            },
        )
        # A step still running after a moment (flowyml.metadata.announcer): never overwrites its outcome.
        self.announce_step = step.on_conflict_do_nothing(index_elements=["run_id", "step_name"])
        self.find_cached = (
            select(steps)
            .where(steps.c.cache_key == bindparam("key"), steps.c.status == "completed")
            .order_by(steps.c.ended_at.desc())
            .limit(1)
        )

        self.insert_artifact = insert(t.artifacts).on_conflict_do_nothing(index_elements=["artifact_id"])
        output = insert(t.step_outputs)
        self.record_output = output.on_conflict_do_update(
            index_elements=["run_id", "step_name", "output_name"], set_={"artifact_id": output.excluded.artifact_id}
        )
        self.record_consumption = t.consumptions.insert()
        self.add_route_event = t.route_events.insert()

        meta = insert(t.meta)
        # How far a pending file (flowyml.metadata.pending) is committed: moved in the commit of its records.
        self.set_mark = meta.on_conflict_do_update(index_elements=["key"], set_={"value": meta.excluded.value})
        self.drop_mark = t.meta.delete().where(t.meta.c.key == bindparam("key"))


class Prepared:
    """A statement compiled for one dialect, run on a driver cursor with a dict of values."""

    def __init__(self, statement: Any, dialect: Dialect, keys: Iterable[str] | None = None) -> None:
        #: The attribute of :class:`PreparedWrites` it is (how a pending file names it).
        self.name = ""
        compiled = statement.compile(dialect=dialect, column_keys=list(keys) if keys is not None else None)
        self.sql = str(compiled)
        #: Values the statement binds itself (a literal in its WHERE clause).
        self._fixed = {k: v for k, v in compiled.params.items() if not compiled.binds[k].required}
        order = compiled.positiontup
        self._order = tuple(order) if order else None
        self._names = tuple(compiled.binds)

    def args(self, values: Mapping[str, Any]) -> Any:
        """The driver's parameters for ``values``: a tuple for ``?`` placeholders, else a dict."""
        merged = {**self._fixed, **values} if self._fixed else values
        if self._order is not None:
            return tuple(merged.get(k) for k in self._order)  # a column not given is NULL
        return {k: merged.get(k) for k in self._names}


class PreparedWrites:
    """The per-step writes of :class:`Statements`, compiled for ``dialect``."""

    def __init__(self, sql: Statements, t: Tables, dialect: Dialect) -> None:
        def columns(table: Any) -> list[str]:
            return [c.name for c in table.c if c.name not in ("row_seq", "id")]

        self.insert_run = Prepared(sql.insert_run, dialect, columns(t.runs))
        self.heartbeat = Prepared(sql.heartbeat, dialect)
        self.finish_run = Prepared(sql.finish_run, dialect)
        self.record_step = Prepared(sql.record_step, dialect, columns(t.steps))
        self.announce_step = Prepared(sql.announce_step, dialect, columns(t.steps))
        self.insert_artifact = Prepared(sql.insert_artifact, dialect, columns(t.artifacts))
        self.record_output = Prepared(sql.record_output, dialect, columns(t.step_outputs))
        self.record_consumption = Prepared(sql.record_consumption, dialect, columns(t.consumptions))
        self.add_route_event = Prepared(sql.add_route_event, dialect, columns(t.route_events))
        self.set_mark = Prepared(sql.set_mark, dialect, ["key", "value"])
        self.drop_mark = Prepared(sql.drop_mark, dialect)
        for name, prepared in vars(self).items():
            prepared.name = name
        #: The writes a pending file may hold, by name: those of a run and its steps, never the marks.
        self.replayable: dict[str, Prepared] = {n: p for n, p in vars(self).items() if n not in ("set_mark", "drop_mark")}
