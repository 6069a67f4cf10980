"""The embedded SQLite metadata store.

One database per project, in ``.flowyml/metadata.db`` beside flowyml.yaml
(found by walking up from the working directory like git does). WAL mode and
a busy timeout make two runs writing at once safe.

Opening is serialized across processes by a lock file beside the database:
switching a new database to WAL needs an exclusive lock that SQLite's busy
handler does not wait for, so two processes creating a project's database at
once would otherwise fail with "database is locked". An older database is
migrated on open (columns are only ever added); a newer one is refused.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flowyml.errors import MetadataError
from flowyml.metadata.owner import current_owner
from flowyml.metadata.prefix import prefix_condition

SCHEMA_VERSION = 2

#: Columns added after version 1, per table: ``ALTER TABLE ... ADD COLUMN`` on open when missing.
_ADDED_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    # v2: who runs the run (see flowyml.metadata.owner) and its last sign of life.
    "runs": (
        ("owner_host", "TEXT"),
        ("owner_pid", "INTEGER"),
        ("owner_started", "TEXT"),
        ("owner_scope", "TEXT"),
        ("heartbeat_at", "REAL"),
    ),
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, pipeline_name TEXT NOT NULL, stack_name TEXT NOT NULL,
    stack_reason TEXT, status TEXT NOT NULL, started_at REAL, ended_at REAL,
    params TEXT, error TEXT, target TEXT
);
CREATE TABLE IF NOT EXISTS steps (
    run_id TEXT NOT NULL, step_name TEXT NOT NULL, status TEXT NOT NULL,
    started_at REAL, ended_at REAL, cache_key TEXT, cached_from TEXT, error TEXT,
    PRIMARY KEY (run_id, step_name)
);
CREATE INDEX IF NOT EXISTS steps_cache ON steps (cache_key, status);
CREATE TABLE IF NOT EXISTS artifacts (
    artifact_id TEXT PRIMARY KEY, run_id TEXT NOT NULL, step_name TEXT NOT NULL,
    output_name TEXT NOT NULL, artifact_type TEXT NOT NULL, python_type TEXT,
    uri TEXT NOT NULL, content_hash TEXT NOT NULL, size INTEGER, serializer TEXT,
    created_at REAL, info TEXT
);
CREATE INDEX IF NOT EXISTS artifacts_run ON artifacts (run_id, step_name);
CREATE TABLE IF NOT EXISTS step_outputs (
    run_id TEXT NOT NULL, step_name TEXT NOT NULL, output_name TEXT NOT NULL, artifact_id TEXT NOT NULL,
    PRIMARY KEY (run_id, step_name, output_name)
);
CREATE TABLE IF NOT EXISTS consumptions (
    run_id TEXT NOT NULL, step_name TEXT NOT NULL, input_name TEXT NOT NULL, artifact_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS route_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, step_name TEXT, artifact_id TEXT,
    action TEXT NOT NULL, target TEXT, status TEXT NOT NULL, detail TEXT, created_at REAL
);
CREATE TABLE IF NOT EXISTS step_attempts (
    run_id TEXT NOT NULL, step_name TEXT NOT NULL, attempt INTEGER NOT NULL, status TEXT NOT NULL,
    started_at REAL, ended_at REAL, error TEXT, PRIMARY KEY (run_id, step_name, attempt)
);
CREATE TABLE IF NOT EXISTS model_versions (
    name TEXT NOT NULL, version TEXT NOT NULL, seq INTEGER NOT NULL, record TEXT NOT NULL,
    status TEXT NOT NULL, created_at REAL, PRIMARY KEY (name, version)
);
CREATE TABLE IF NOT EXISTS deployments (
    endpoint_name TEXT PRIMARY KEY, model_name TEXT NOT NULL, model_version TEXT NOT NULL,
    status TEXT NOT NULL, url TEXT, pid INTEGER, record TEXT, created_at REAL
);
CREATE TABLE IF NOT EXISTS tracker_runs (
    run_id TEXT PRIMARY KEY, pipeline_name TEXT, stack_name TEXT, status TEXT, started_at REAL, ended_at REAL
);
CREATE TABLE IF NOT EXISTS tracker_metrics (
    run_id TEXT NOT NULL, step_name TEXT, key TEXT NOT NULL, value REAL, step INTEGER, metadata TEXT, logged_at REAL
);
CREATE TABLE IF NOT EXISTS tracker_params (
    run_id TEXT NOT NULL, step_name TEXT, key TEXT NOT NULL, value TEXT
);
"""

#: The indexes every listing and lookup of past runs reads through (tests/test_query_plans.py
#: checks that none of them scans a whole table). Created on open when missing, so an older
#: database gains them the first time a newer FlowyML opens it; an index changes no row.
_INDEXES = """
CREATE INDEX IF NOT EXISTS runs_started ON runs (started_at);
CREATE INDEX IF NOT EXISTS runs_pipeline ON runs (pipeline_name, started_at);
CREATE INDEX IF NOT EXISTS runs_status ON runs (status, started_at);
CREATE INDEX IF NOT EXISTS runs_pipeline_status ON runs (pipeline_name, status, started_at);
CREATE INDEX IF NOT EXISTS artifacts_created ON artifacts (created_at);
CREATE INDEX IF NOT EXISTS step_outputs_artifact ON step_outputs (artifact_id);
CREATE INDEX IF NOT EXISTS consumptions_run ON consumptions (run_id, step_name);
CREATE INDEX IF NOT EXISTS consumptions_artifact ON consumptions (artifact_id);
CREATE INDEX IF NOT EXISTS route_events_run ON route_events (run_id);
CREATE INDEX IF NOT EXISTS tracker_metrics_run ON tracker_metrics (run_id);
CREATE INDEX IF NOT EXISTS tracker_params_run ON tracker_params (run_id);
CREATE INDEX IF NOT EXISTS model_versions_seq ON model_versions (name, seq);
"""

STATE_DIR = ".flowyml"


def find_project_dir(start: Path | None = None) -> Path:
    """The folder holding flowyml.yaml or .flowyml/, walking up from ``start``; else ``start``."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "flowyml.yaml").is_file() or (folder / "flowyml.yml").is_file() or (folder / STATE_DIR).is_dir():
            return folder
    return here


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes (``flock`` on ``path``; a no-op where fcntl is missing)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: SQLite's own retries only
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Create missing tables and columns; refuse a database written by a newer FlowyML."""
    conn.executescript(_SCHEMA)
    row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    found = int(row[0]) if row else SCHEMA_VERSION
    if found > SCHEMA_VERSION:
        raise MetadataError(
            f"the metadata database {path} has schema version {found}; this FlowyML reads up to version {SCHEMA_VERSION}",
            hint="upgrade flowyml to open this project",
        )
    for table, columns in _ADDED_COLUMNS.items():
        have = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
        for name, sql_type in columns:
            if name not in have:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {sql_type}")
    conn.executescript(_INDEXES)
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True)


class MetadataStore:
    """Thread-safe access to one project's metadata database."""

    _open: dict[Path, MetadataStore] = {}
    _open_lock = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(str(path), timeout=30.0, isolation_level=None, check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA busy_timeout=30000")
        with _file_lock(path.with_name(path.name + ".lock")):
            if str(self._conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            _migrate(self._conn, path)

    @classmethod
    def for_project(cls, project_dir: Path) -> MetadataStore:
        """The (shared, per-process) store of ``project_dir``."""
        path = (project_dir / STATE_DIR / "metadata.db").resolve()
        with cls._open_lock:
            store = cls._open.get(path)
            if store is None or not store.path.exists():
                store = cls(path)
                cls._open[path] = store
            return store

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Cursor]:
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            else:
                cur.execute("COMMIT")

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._conn.execute(sql, params))

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        with self._lock:
            self._conn.execute(sql, params)

    # -- runs -----------------------------------------------------------------

    def start_run(self, run_id: str, pipeline: str, stack: str, reason: str, params: Mapping[str, Any], target: str | None) -> None:
        """Record a new ``running`` run owned by this process (see :mod:`flowyml.metadata.status`)."""
        owner = current_owner()
        now = time.time()
        self.execute(
            "INSERT INTO runs (run_id, pipeline_name, stack_name, stack_reason, status, started_at, params, target,"
            " owner_host, owner_pid, owner_started, owner_scope, heartbeat_at)"
            " VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, pipeline, stack, reason, now, _dumps(dict(params)), target, owner.host, owner.pid, owner.started, owner.scope, now),
        )

    def heartbeat(self, run_id: str) -> None:
        self.execute("UPDATE runs SET heartbeat_at=? WHERE run_id=? AND status='running'", (time.time(), run_id))

    def finish_run(self, run_id: str, status: str, error: str | None = None) -> None:
        self.execute("UPDATE runs SET status=?, ended_at=?, error=? WHERE run_id=?", (status, time.time(), error, run_id))

    def get_run(self, run_id: str) -> sqlite3.Row | None:
        rows = self.query("SELECT * FROM runs WHERE run_id=?", (run_id,))
        if not rows:
            within, bounds = prefix_condition("run_id", run_id)
            rows = self.query(f"SELECT * FROM runs WHERE {within} ORDER BY started_at DESC", bounds)
            if len(rows) > 1:
                return None
        return rows[0] if rows else None

    def list_runs(self, limit: int = 20, pipeline: str | None = None, status: str | None = None) -> list[sqlite3.Row]:
        """Runs, newest first; ``status`` filters on the *effective* status (``crashed`` included)."""
        from flowyml.metadata.status import effective_status

        where, params = ("WHERE pipeline_name=?", (pipeline,)) if pipeline else ("", ())
        if status is None:
            return self.query(f"SELECT * FROM runs {where} ORDER BY started_at DESC LIMIT ?", (*params, limit))
        # A crashed run is stored 'running': filter in Python, over the rows that can have that status.
        stored = "'running'" if status in ("running", "crashed") else "?"
        where = f"{where} {'AND' if where else 'WHERE'} status={stored}"
        params = params if stored != "?" else (*params, status)
        rows = self.query(f"SELECT * FROM runs {where} ORDER BY started_at DESC", params)
        return [r for r in rows if effective_status(r) == status][:limit]

    # -- steps ------------------------------------------------------------------

    def record_step(
        self,
        run_id: str,
        step: str,
        status: str,
        *,
        started_at: float | None = None,
        ended_at: float | None = None,
        cache_key: str | None = None,
        cached_from: str | None = None,
        error: str | None = None,
    ) -> None:
        self.execute(
            "INSERT INTO steps (run_id, step_name, status, started_at, ended_at, cache_key, cached_from, error)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, step_name) DO UPDATE SET"
            " status=excluded.status, started_at=COALESCE(excluded.started_at, started_at),"
            " ended_at=excluded.ended_at, cache_key=COALESCE(excluded.cache_key, cache_key),"
            " cached_from=excluded.cached_from, error=excluded.error",
            (run_id, step, status, started_at, ended_at, cache_key, cached_from, error),
        )

    def steps_of(self, run_id: str) -> list[sqlite3.Row]:
        return self.query("SELECT * FROM steps WHERE run_id=? ORDER BY started_at", (run_id,))

    def record_attempt(
        self, run_id: str, step: str, attempt: int, status: str, started_at: float | None, ended_at: float | None, error: str | None
    ) -> None:
        """One attempt of a step that has retries or a timeout (see flowyml.runner.attempts)."""
        self.execute(
            "INSERT OR REPLACE INTO step_attempts (run_id, step_name, attempt, status, started_at, ended_at, error)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (run_id, step, attempt, status, started_at, ended_at, error),
        )

    def attempts_of(self, run_id: str, step: str | None = None) -> list[sqlite3.Row]:
        """The recorded attempts of a run's steps (of one step), in step then attempt order."""
        if step is None:
            return self.query("SELECT * FROM step_attempts WHERE run_id=? ORDER BY step_name, attempt", (run_id,))
        return self.query("SELECT * FROM step_attempts WHERE run_id=? AND step_name=? ORDER BY attempt", (run_id, step))

    def find_cached(self, cache_key: str) -> sqlite3.Row | None:
        rows = self.query(
            "SELECT * FROM steps WHERE cache_key=? AND status='completed' ORDER BY ended_at DESC LIMIT 1", (cache_key,)
        )
        return rows[0] if rows else None

    # -- artifacts -------------------------------------------------------------

    def add_artifact(self, row: Mapping[str, Any], run_id: str, step: str, output: str) -> None:
        with self.transaction() as cur:
            cur.execute(
                "INSERT OR IGNORE INTO artifacts (artifact_id, run_id, step_name, output_name, artifact_type, python_type,"
                " uri, content_hash, size, serializer, created_at, info) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    row["artifact_id"], row["run_id"], row["step_name"], row["output_name"], row["artifact_type"],
                    row.get("python_type"), row["uri"], row["content_hash"], row.get("size"), row.get("serializer"),
                    row.get("created_at", time.time()), _dumps(row.get("info", {})),
                ),
            )
            cur.execute(
                "INSERT OR REPLACE INTO step_outputs VALUES (?, ?, ?, ?)", (run_id, step, output, row["artifact_id"])
            )

    def get_artifact(self, artifact_id: str) -> sqlite3.Row | None:
        rows = self.query("SELECT * FROM artifacts WHERE artifact_id=?", (artifact_id,))
        if not rows:
            within, bounds = prefix_condition("artifact_id", artifact_id)
            rows = self.query(f"SELECT * FROM artifacts WHERE {within}", bounds)
            if len(rows) != 1:
                return None
        return rows[0]

    def outputs_of(self, run_id: str, step: str | None = None) -> list[sqlite3.Row]:
        sql = (
            "SELECT so.step_name AS out_step, so.output_name AS out_name, a.* FROM step_outputs so"
            " JOIN artifacts a ON a.artifact_id = so.artifact_id WHERE so.run_id=?"
        )
        params: tuple[Any, ...] = (run_id,)
        if step is not None:
            sql += " AND so.step_name=?"
            params += (step,)
        return self.query(sql + " ORDER BY a.created_at", params)

    def list_artifacts(self, run_id: str | None = None, limit: int = 100) -> list[sqlite3.Row]:
        if run_id:
            return self.outputs_of(run_id)
        return self.query(
            "SELECT so.step_name AS out_step, so.output_name AS out_name, a.* FROM step_outputs so"
            " JOIN artifacts a ON a.artifact_id = so.artifact_id ORDER BY a.created_at DESC LIMIT ?",
            (limit,),
        )

    def record_consumption(self, run_id: str, step: str, input_name: str, artifact_id: str) -> None:
        self.execute("INSERT INTO consumptions VALUES (?, ?, ?, ?)", (run_id, step, input_name, artifact_id))

    def consumers_of(self, run_id: str, artifact_id: str) -> list[str]:
        rows = self.query("SELECT DISTINCT step_name FROM consumptions WHERE run_id=? AND artifact_id=?", (run_id, artifact_id))
        return [r["step_name"] for r in rows]

    def inputs_of(self, run_id: str, step: str) -> list[sqlite3.Row]:
        return self.query(
            "SELECT c.input_name, a.* FROM consumptions c JOIN artifacts a ON a.artifact_id=c.artifact_id"
            " WHERE c.run_id=? AND c.step_name=?",
            (run_id, step),
        )

    # -- routing ------------------------------------------------------------------

    def add_route_event(
        self, run_id: str, step: str | None, artifact_id: str | None, action: str, target: str | None, status: str, detail: str
    ) -> None:
        self.execute(
            "INSERT INTO route_events (run_id, step_name, artifact_id, action, target, status, detail, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, step, artifact_id, action, target, status, detail, time.time()),
        )

    def route_events(self, run_id: str) -> list[sqlite3.Row]:
        return self.query("SELECT * FROM route_events WHERE run_id=? ORDER BY id", (run_id,))
