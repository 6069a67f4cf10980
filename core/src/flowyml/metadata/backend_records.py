"""The local backends' records in the metadata store: model versions, deployments, tracked metrics.

The local model registry, model deployer and experiment tracker (in
``flowyml-local``) keep their state in the project's metadata database, so a
shared database shares them too. They use these methods, never SQL.

A new model version's number is allocated inside one transaction that holds a
lock for that model name (SQLite: the database's write lock, taken by
``BEGIN IMMEDIATE``; PostgreSQL: a transaction-scoped advisory lock on the
name), so processes on any number of machines never hand out one number twice.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from flowyml.metadata.schema import Tables
    from flowyml.metadata.store import Row

__all__ = ["BackendRecords"]

#: The advisory lock namespace of model version allocation (PostgreSQL's two-key form: namespace, name hash).
_MODEL_LOCK_SPACE = 0x6D76  # "mv"


class BackendRecords:
    """Mixed into :class:`~flowyml.metadata.store.MetadataStore`."""

    if TYPE_CHECKING:  # provided by MetadataStore
        t: Tables

        def fetch(self, statement: Any, params: Any = None) -> list[Row]: ...
        def write(self, statement: Any, params: Any = None) -> None: ...
        def transaction(self) -> AbstractContextManager[Connection]: ...
        def upsert(self, table: Any, values: Mapping[str, Any], keys: Any, update: Any = None) -> Any: ...

    # -- model versions (local registry) --------------------------------------------------

    def model_versions(self, name: str | None = None) -> list[Row]:
        """Versions of ``name`` (every model's when None) in registration order."""
        mv = self.t.model_versions
        query = select(mv)
        if name is not None:
            return self.fetch(query.where(mv.c.name == name).order_by(mv.c.seq))
        return self.fetch(query.order_by(mv.c.name, mv.c.seq))

    def model_version(self, name: str, version: str | None) -> Row | None:
        """Version ``version`` of ``name``, or its newest when ``version`` is None."""
        mv = self.t.model_versions
        query = select(mv).where(mv.c.name == name)
        query = query.order_by(mv.c.seq.desc()).limit(1) if version is None else query.where(mv.c.version == str(version))
        rows = self.fetch(query)
        return rows[0] if rows else None

    def add_model_version(
        self,
        name: str,
        decide: Callable[[list[Row]], tuple[str, str, str] | Any],
    ) -> Any:
        """Register a version of ``name`` atomically.

        ``decide(current_rows)`` runs inside the locked transaction with the
        model's current versions; it returns either ``(version, record_json,
        status)`` to insert as the next sequence number, or any other value to
        insert nothing (an existing version that matches). Returns what
        ``decide`` returned.
        """
        mv = self.t.model_versions
        with self.transaction() as conn:
            self._lock_model(conn, name)
            rows = list(conn.execute(select(mv).where(mv.c.name == name).order_by(mv.c.seq)).mappings())
            decided = decide(rows)
            if isinstance(decided, tuple):
                version, record, status = decided
                seq = conn.execute(select(func.coalesce(func.max(mv.c.seq), 0)).where(mv.c.name == name)).scalar_one() + 1
                conn.execute(
                    mv.insert().values(name=name, version=version, seq=seq, record=record, status=status, created_at=time.time())
                )
        return decided

    def _lock_model(self, conn: Connection, name: str) -> None:
        if conn.dialect.name == "postgresql":
            key = zlib.crc32(name.encode()) - 2**31  # a signed 32-bit key per name
            conn.execute(select(func.pg_advisory_xact_lock(_MODEL_LOCK_SPACE, key)))
        # SQLite: BEGIN IMMEDIATE already holds the database's write lock.

    def set_model_status(self, name: str, version: str, status: str) -> None:
        mv = self.t.model_versions
        self.write(mv.update().where(mv.c.name == name, mv.c.version == version).values(status=status))

    # -- deployments (local deployer) -------------------------------------------------------

    def deployment(self, endpoint_name: str) -> Row | None:
        d = self.t.deployments
        rows = self.fetch(select(d).where(d.c.endpoint_name == endpoint_name))
        return rows[0] if rows else None

    def put_deployment(
        self, endpoint_name: str, model_name: str, model_version: str, status: str, url: str, pid: int, record: Mapping[str, Any]
    ) -> None:
        values = {
            "endpoint_name": endpoint_name, "model_name": model_name, "model_version": model_version, "status": status,
            "url": url, "pid": pid, "record": json.dumps(dict(record), default=str), "created_at": time.time(),
        }
        self.write(self.upsert(self.t.deployments, values, ["endpoint_name"]))

    def delete_deployment(self, endpoint_name: str) -> None:
        d = self.t.deployments
        self.write(d.delete().where(d.c.endpoint_name == endpoint_name))

    def deployments(self) -> list[Row]:
        d = self.t.deployments
        return self.fetch(select(d).order_by(d.c.created_at))

    # -- tracked metrics and parameters (local tracker) -------------------------------------

    def tracker_start(self, run_id: str, pipeline: str, stack: str) -> None:
        values = {"run_id": run_id, "pipeline_name": pipeline, "stack_name": stack, "status": "running", "started_at": time.time(), "ended_at": None}
        self.write(self.upsert(self.t.tracker_runs, values, ["run_id"]))

    def tracker_end(self, run_id: str, status: str) -> None:
        tr = self.t.tracker_runs
        self.write(tr.update().where(tr.c.run_id == run_id).values(status=status, ended_at=time.time()))

    def add_tracked_metrics(
        self, run_id: str, step_name: str, metrics: Iterable[tuple[str, float]], step: int | None, metadata: str | None
    ) -> None:
        now = time.time()
        rows = [
            {"run_id": run_id, "step_name": step_name, "key": k, "value": v, "step": step, "metadata": metadata, "logged_at": now}
            for k, v in metrics
        ]
        if rows:
            self.write(self.t.tracker_metrics.insert(), rows)

    def add_tracked_params(self, run_id: str, step_name: str, params: Iterable[tuple[str, str]]) -> None:
        rows = [{"run_id": run_id, "step_name": step_name, "key": k, "value": v} for k, v in params]
        if rows:
            self.write(self.t.tracker_params.insert(), rows)

    def tracked_metrics(self, run_id: str) -> list[Row]:
        m = self.t.tracker_metrics
        return self.fetch(select(m).where(m.c.run_id == run_id).order_by(self.t.order_of(m)))

    def tracked_params(self, run_id: str) -> list[Row]:
        p = self.t.tracker_params
        return self.fetch(select(p).where(p.c.run_id == run_id).order_by(self.t.order_of(p)))
