"""The metadata store: runs, steps, artifacts, lineage and route events, in SQLite or PostgreSQL.

One database per project. By default an embedded SQLite file,
``.flowyml/metadata.db`` beside flowyml.yaml (found by walking up from the
working directory like git does); ``metadata: { url: ... }`` in flowyml.yaml
names another file or a PostgreSQL database shared by a team
(:mod:`flowyml.metadata.database_url`). Both go through one code path,
SQLAlchemy Core over the tables of :mod:`flowyml.metadata.schema`.

SQLite: WAL mode and a busy timeout make two runs writing at once safe.
Opening is serialized across processes by a lock file beside the database:
switching a new database to WAL needs an exclusive lock that SQLite's busy
handler does not wait for. PostgreSQL: opening takes an advisory lock, so the
first processes to use a new database create its tables once.

An older database is migrated on open; a newer one is refused
(:mod:`flowyml.metadata.migrations`). Rows come back as mappings by column
name (``row["run_id"]``).
"""

from __future__ import annotations

import atexit
import getpass
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from weakref import WeakSet

from sqlalchemy import Connection, RowMapping, and_, func, select, text
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from flowyml import redaction
from flowyml.metadata import pending
from flowyml.metadata.backend_records import BackendRecords
from flowyml.metadata.database_url import DatabaseURL, parse_database_url
from flowyml.metadata.engine import database_error, make_engine
from flowyml.metadata.migrations import migrate
from flowyml.metadata.owner import current_owner
from flowyml.metadata.pending import PendingFile
from flowyml.metadata.prefix import prefix_range
from flowyml.metadata.schema import SCHEMA_VERSION, Tables, tables_for
from flowyml.metadata.statements import Prepared, PreparedWrites, Statements

if TYPE_CHECKING:
    import sqlite3

    from flowyml.config.schema import ProjectConfig

__all__ = ["SCHEMA_VERSION", "STATE_DIR", "MetadataStore", "Row", "find_project_dir"]

#: A row read from the store: a read-only mapping by column name.
Row = RowMapping

STATE_DIR = ".flowyml"
#: WAL pages after which a commit of this process checkpoints the SQLite database (SQLite's default:
#: 1,000). A trivial step's commit writes about 19 pages (one per table and index it touches), and a
#: checkpoint syncs both files to disk: at the default, a long run of small steps paid for one every ~50
#: steps. 4,000 pages (16 MiB of WAL) makes that one per ~200 steps; durability is unchanged (each
#: commit is in the WAL when it returns, synchronous=NORMAL as before). benchmarks/bench_core.py.
WAL_CHECKPOINT_PAGES = 4000

log = logging.getLogger("flowyml.metadata")

#: Step records are held in a pending file (flowyml.metadata.pending) only where flock exists.
try:
    import fcntl  # noqa: F401

    _HAS_FLOCK = True
except ImportError:  # pragma: no cover - Windows: each step commits at once
    _HAS_FLOCK = False

#: SQLite stores of this process with a pending file: committed and closed at exit, forgotten in a forked child.
_live_stores: WeakSet[MetadataStore] = WeakSet()


def _close_all_pending() -> None:
    for store in list(_live_stores):
        try:
            store._close_pending()
        except Exception as exc:  # the file stays: the next process to open the database commits it
            log.warning("could not commit the pending step records of %s at exit: %s", store.display, exc)


def _forget_in_child() -> None:
    """A forked child must neither commit nor remove its parent's held records (the parent does)."""
    for store in list(_live_stores):
        store._pending = []
        if store._pending_file is not None:
            store._pending_file.forget()
            store._pending_file = PendingFile(store._pending_file.folder)


atexit.register(_close_all_pending)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)

#: The advisory lock key PostgreSQL openers serialize on (any constant: "flowyml" in ASCII).
_OPEN_LOCK_KEY = 0x666C6F77796D6C


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


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True)


def _who() -> tuple[str | None, str]:
    """(user, host) of this process, as recorded on the runs it starts."""
    try:
        user: str | None = getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name, no passwd entry (some containers)
        user = None
    return user, socket.gethostname()


class MetadataStore(BackendRecords):
    """Thread-safe access to one project's metadata database.

    ``MetadataStore(path)`` opens (or creates) a SQLite file;
    ``MetadataStore(url)`` a ``sqlite:///`` or ``postgresql://`` URL.
    """

    _open: dict[tuple[str, str, str, str], MetadataStore] = {}
    _open_lock = threading.Lock()

    def __init__(self, target: Path | str | DatabaseURL, *, project_dir: Path | None = None) -> None:
        if isinstance(target, DatabaseURL):
            url = target
        elif isinstance(target, str) and "://" in target:
            url = parse_database_url(target, project_dir or Path.cwd())
        else:
            url = DatabaseURL("sqlite", path=Path(target).resolve())
        self.url = url
        #: The SQLite file, or None on PostgreSQL.
        self.path: Path | None = url.path
        self.t: Tables = tables_for(url.dialect)
        self._sql = Statements(self.t)
        self._lock = threading.RLock()
        #: Per thread: the record writes held by :meth:`one_transaction` (None: write at once).
        self._held = threading.local()
        self._sqlite = url.dialect == "sqlite"
        if url.password:
            redaction.register([url.password])  # for as long as the process may print an error about it
        self._engine = make_engine(url)
        self._writes = PreparedWrites(self._sql, self.t, self._engine.dialect)
        self._dbapi = self._engine.dialect.loaded_dbapi
        #: SQLite: the step records ended but not yet committed, and the file that keeps them meanwhile
        #: (flowyml.metadata.pending); on PostgreSQL, or without flock, each step commits at once.
        self._pending: list[tuple[int, list[tuple[Prepared, Mapping[str, Any]]]]] = []
        self._pending_since = 0.0
        self._pending_file: PendingFile | None = None
        try:
            if self._sqlite:
                self._open_sqlite()
            else:
                self._open_postgres()
        except DBAPIError as exc:
            raise database_error(exc, url, "open") from None

    def _open_sqlite(self) -> None:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn_sa = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        #: The sqlite3 connection underneath (tests trace the SQL it runs).
        self._conn: sqlite3.Connection = self._conn_sa.connection.driver_connection  # type: ignore[assignment]
        self._conn_sa.exec_driver_sql("PRAGMA busy_timeout=30000")
        with _file_lock(self.path.with_name(self.path.name + ".lock")):
            mode = self._conn_sa.exec_driver_sql("PRAGMA journal_mode").scalar()
            if str(mode).lower() != "wal":
                self._conn_sa.exec_driver_sql("PRAGMA journal_mode=WAL")
            self._conn_sa.exec_driver_sql("PRAGMA synchronous=NORMAL")
            self._conn_sa.exec_driver_sql(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
            with self.transaction() as conn:
                migrate(conn, self.t, str(self.path))
        if _HAS_FLOCK:
            self._pending_file = PendingFile(pending.folder_for(self.path))
            _live_stores.add(self)
        self._take_over_pending()

    def _open_postgres(self) -> None:
        with self._engine.begin() as conn:  # the first connection: a wrong host, port or password fails here
            conn.execute(select(func.pg_advisory_xact_lock(_OPEN_LOCK_KEY)))
            migrate(conn, self.t, self.url.display)

    @classmethod
    def for_project(cls, project_dir: Path, url: str | DatabaseURL | None = None) -> MetadataStore:
        """The (shared, per-process) store of ``project_dir``: ``url``, else its flowyml.yaml's ``metadata.url``."""
        project_dir = Path(project_dir).resolve()
        if url is None:
            from flowyml.config.metadata_setting import metadata_url_of

            url = metadata_url_of(project_dir)
        found = url if isinstance(url, DatabaseURL) else parse_database_url(url, project_dir)
        key = (found.dialect, found.user, found.password, found.where)
        with cls._open_lock:
            store = cls._open.get(key)
            if store is None or (store.path is not None and not store.path.exists()):
                store = cls(found)
                cls._open[key] = store
            return store

    @classmethod
    def of(cls, project: ProjectConfig) -> MetadataStore:
        """The store of a loaded project configuration (its ``metadata.url``, or the embedded database)."""
        return cls.for_project(project.project_dir, project.metadata.resolve(project.project_dir))

    def close(self) -> None:
        """Close this store's connections (a store shared by :meth:`for_project` is closed for everyone)."""
        with self._lock:
            if self._sqlite:
                self._close_pending()
                self._conn_sa.close()
            self._engine.dispose()

    def _close_pending(self) -> None:
        """Commit what is pending, then remove this store's pending file and its mark."""
        pending_file = self._pending_file
        if pending_file is None:
            return
        self.flush()  # raises, keeping the file, when the database cannot take them
        self._pending_file = None
        _live_stores.discard(self)
        if pending_file.seq:
            pending_file.close()
            self._put_now((self._writes.drop_mark, {"key": pending_file.mark_key}))

    @property
    def display(self) -> str:
        """The database as named in messages: the file, or the URL with its password masked."""
        return str(self.path) if self.path is not None else self.url.display

    def __repr__(self) -> str:
        return f"<MetadataStore {self.display}>"

    # -- connections ------------------------------------------------------------------

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection for one statement or a few reads (each statement commits on its own on SQLite)."""
        try:
            if self._sqlite:
                with self._lock:
                    self._settle()
                    yield self._conn_sa
            else:
                with self._engine.begin() as conn:
                    yield conn
        except DBAPIError as exc:
            raise self._failure(exc) from None

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection inside one transaction: committed when the block ends, rolled back when it raises."""
        try:
            if self._sqlite:
                with self._lock:
                    self._settle()
                    conn = self._conn_sa
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                    try:
                        yield conn
                    except BaseException:
                        conn.exec_driver_sql("ROLLBACK")
                        raise
                    else:
                        conn.exec_driver_sql("COMMIT")
            else:
                with self._engine.begin() as conn:
                    yield conn
        except DBAPIError as exc:
            raise self._failure(exc) from None

    def _failure(self, exc: DBAPIError) -> BaseException:
        if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
            return database_error(exc, self.url, "use")
        return exc

    def fetch(self, statement: Any, params: Mapping[str, Any] | None = None) -> list[Row]:
        """The rows of a SQLAlchemy Core ``statement`` (a select over :attr:`t`'s tables)."""
        with self.connect() as conn:
            return list(conn.execute(statement, params).mappings())

    def write(self, statement: Any, params: Any = None) -> None:
        """Run one Core statement (``params``: a list of rows for an insert of many), committed at once."""
        with self.connect() as conn:
            conn.execute(statement, params)

    @contextmanager
    def one_transaction(self) -> Iterator[None]:
        """Hold this thread's record writes (steps, artifacts and outputs, consumptions, route events) and record
        them together when the block ends, also when it raises.

        The runner wraps each step in it: a step's rows are written together,
        in one transaction. On PostgreSQL that transaction is committed when
        the block ends. On SQLite the block's writes are appended to this
        store's pending file (:mod:`flowyml.metadata.pending`) and committed
        with those of the next steps: when :data:`~flowyml.metadata.pending.FLUSH_AFTER`
        seconds or :data:`~flowyml.metadata.pending.MAX_PENDING` steps are
        held, before any other read or write of this store, when a step is
        announced running, and when the store closes. A process killed
        inside the block loses only that unfinished step's rows; a process
        killed after it loses none (the next process to open the database, or
        any read of a store on it, commits the dead process's file). A nested
        block joins the outer one; reads inside the block do not see the held
        writes.
        """
        if getattr(self._held, "writes", None) is not None:
            yield
            return
        self._held.writes = []
        try:
            yield
        finally:
            writes, self._held.writes = self._held.writes, None
            if writes:
                self._defer(writes)

    def _defer(self, writes: list[tuple[Prepared, Mapping[str, Any]]]) -> None:
        """Record one step's writes: in the pending file, committed later (SQLite), else at once."""
        pending_file = self._pending_file
        if pending_file is None:
            self._put(*writes)
            return
        with self._lock:
            try:
                pending_file.append((prepared.name, values) for prepared, values in writes)
            except (OSError, TypeError, ValueError) as exc:  # a full disk, a value JSON cannot hold: commit now
                log.warning("step records committed at once: they could not be kept in %s (%s)", pending_file.path, exc)
                self._put(*writes)
                return
            if not self._pending:
                self._pending_since = time.monotonic()
            self._pending.append((pending_file.seq, writes))
            if len(self._pending) >= pending.MAX_PENDING or time.monotonic() - self._pending_since >= pending.FLUSH_AFTER:
                self._put_now()

    def flush(self) -> None:
        """Commit the step records held since the last commit (see :meth:`one_transaction`); a no-op when none are."""
        if self._pending:
            self._put_now()  # takes the lock, and does nothing if another thread committed them meanwhile

    def flush_older_than(self, seconds: float) -> None:
        """:meth:`flush` if the oldest held record has waited ``seconds`` (the step announcer calls it)."""
        if self._pending and time.monotonic() - self._pending_since >= seconds:
            self.flush()

    def _settle(self) -> None:
        """Before a read or a write: commit what this store holds, and what dead processes left pending."""
        if self._conn.in_transaction:  # a read inside transaction(): settled when that began
            return
        if self._pending:
            self._put_now()
        if self._pending_file is not None:
            self._take_over_pending()

    def _take_over_pending(self) -> None:
        """Commit the pending files of dead processes (flowyml.metadata.pending.take_over)."""
        if self._pending_file is None:
            return
        try:
            pending.take_over(
                self._pending_file.folder, self._writes.replayable.__contains__, self._commit_taken,
                lambda key: self._put_now((self._writes.drop_mark, {"key": key})),
            )
        except (OSError, self._dbapi.Error) as exc:  # a read-only database or folder: the next writer commits them
            log.warning("could not commit the step records a stopped run left in %s: %s", self._pending_file.folder, exc)

    def _commit_taken(self, key: str, records: Sequence[pending.Record]) -> None:
        marks = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchall()
        done = int(marks[0][0]) if marks else 0
        writes = [(self._writes.replayable[name], values) for seq, batch in records if seq > done for name, values in batch]
        if records:
            writes.append((self._writes.set_mark, {"key": key, "value": str(records[-1][0])}))
            self._commit(writes)  # this store's own held records are committed first (_settle)

    def _put(self, *writes: tuple[Prepared, Mapping[str, Any]]) -> None:
        """Run per-step writes (see :mod:`flowyml.metadata.statements`) on the driver, in one transaction."""
        held = getattr(self._held, "writes", None)
        if held is not None:  # inside one_transaction(): committed when it ends
            held.extend(writes)
            return
        self._put_now(*writes)

    def _put_now(self, *writes: tuple[Prepared, Mapping[str, Any]]) -> None:
        """Commit ``writes`` in one transaction, after the held step records."""
        try:
            if self._sqlite:
                with self._lock:
                    if self._pending:
                        self._commit_held(writes)
                    elif writes:
                        self._commit(writes)
            else:
                with self._engine.begin() as conn:
                    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
                    for prepared, values in writes:
                        cursor.execute(prepared.sql, prepared.args(values))
        except (self._dbapi.OperationalError, self._dbapi.InterfaceError) as exc:
            raise database_error(exc, self.url, "use") from None

    def _commit(self, writes: Sequence[tuple[Prepared, Mapping[str, Any]]]) -> None:
        raw = self._conn
        if len(writes) == 1:
            prepared, values = writes[0]
            raw.execute(prepared.sql, prepared.args(values))
            return
        raw.execute("BEGIN IMMEDIATE")
        try:
            for prepared, values in writes:
                raw.execute(prepared.sql, prepared.args(values))
        except BaseException:
            raw.execute("ROLLBACK")
            raise
        raw.execute("COMMIT")

    def _commit_held(self, writes: Sequence[tuple[Prepared, Mapping[str, Any]]]) -> None:
        """Commit the held step records, then ``writes``, and move this store's mark, in one transaction.

        The database unusable (locked past the busy timeout, a full disk, a missing table): the error is
        raised and every record stays held, in memory and in the pending file, for the next commit. A
        record the database refuses (a constraint): the others are committed one by one, that one is
        dropped and its error raised, naming its step.
        """
        pending_file = self._pending_file
        assert pending_file is not None
        held = self._pending

        def mark(seq: int) -> tuple[Prepared, Mapping[str, Any]]:
            return self._writes.set_mark, {"key": pending_file.mark_key, "value": str(seq)}

        try:
            self._commit([*(w for _, record in held for w in record), *writes, mark(held[-1][0])])
        except (self._dbapi.OperationalError, self._dbapi.InterfaceError):
            raise
        except self._dbapi.Error:
            refused: list[BaseException] = []
            for seq, record in held:
                try:
                    self._commit([*record, mark(seq)])
                except (self._dbapi.OperationalError, self._dbapi.InterfaceError):
                    raise
                except self._dbapi.Error as exc:
                    step = record[0][1].get("step_name")  # every write of a step names it
                    exc.add_note(f"the records of step {step!r} were not committed: the metadata database {self.display} refused them")
                    refused.append(exc)
            self._pending = []
            pending_file.emptied()
            if writes:
                self._commit(writes)
            raise refused[0] from None
        self._pending = []
        pending_file.emptied()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Rows of a plain SQL statement with ``?`` placeholders (for inspection and tests; portable SQL only)."""
        with self.connect() as conn:
            return list(conn.exec_driver_sql(self._native(sql), tuple(params)).mappings())

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run a plain SQL statement with ``?`` placeholders (for inspection and tests; portable SQL only)."""
        with self.connect() as conn:
            conn.exec_driver_sql(self._native(sql), tuple(params))

    def _native(self, sql: str) -> str:
        return sql if self._sqlite else sql.replace("%", "%%").replace("?", "%s")

    def upsert(self, table: Any, values: Mapping[str, Any], keys: Sequence[str], update: Sequence[str] | None = None) -> Any:
        """An INSERT of ``values`` that updates ``update`` (default: every other column) when ``keys`` exist."""
        insert = (sqlite_dialect.insert if self._sqlite else pg_dialect.insert)(table).values(**values)
        columns = [c for c in values if c not in keys] if update is None else list(update)
        if not columns:
            return insert.on_conflict_do_nothing(index_elements=list(keys))
        return insert.on_conflict_do_update(index_elements=list(keys), set_={c: insert.excluded[c] for c in columns})

    def prefix_of(self, column: Any, prefix: str) -> Any:
        """"``column`` starts with ``prefix``", as a range an index answers (see :mod:`flowyml.metadata.prefix`)."""
        low, high = prefix_range(prefix)
        if high is None:  # a prefix of only the last code point: every text at or above it starts with it
            return column >= low
        return and_(column >= low, column < high)

    # -- runs -----------------------------------------------------------------

    def start_run(self, run_id: str, pipeline: str, stack: str, reason: str, params: Mapping[str, Any], target: str | None) -> None:
        """Record a new ``running`` run owned by this process (see :mod:`flowyml.metadata.status`)."""
        owner = current_owner()
        user, host = _who()
        now = time.time()
        self._put((
            self._writes.insert_run,
            {
                "run_id": run_id, "pipeline_name": pipeline, "stack_name": stack, "stack_reason": reason, "status": "running",
                "started_at": now, "params": _dumps(dict(params)), "target": target, "owner_host": owner.host,
                "owner_pid": owner.pid, "owner_started": owner.started, "owner_scope": owner.scope, "heartbeat_at": now,
                "user": user, "host": host,
            },
        ))

    def heartbeat(self, run_id: str) -> None:
        self._put((self._writes.heartbeat, {"rid": run_id, "at": time.time()}))

    def finish_run(self, run_id: str, status: str, error: str | None = None) -> None:
        self._put((self._writes.finish_run, {"rid": run_id, "new_status": status, "at": time.time(), "new_error": error}))

    def run_exists(self, run_id: str) -> bool:
        runs = self.t.runs
        return bool(self.fetch(select(runs.c.run_id).where(runs.c.run_id == run_id)))

    def get_run(self, run_id: str) -> Row | None:
        runs = self.t.runs
        rows = self.fetch(select(runs).where(runs.c.run_id == run_id))
        if not rows:
            rows = self.fetch(select(runs).where(self.prefix_of(runs.c.run_id, run_id)))
            if len(rows) > 1:  # ambiguous
                return None
        return rows[0] if rows else None

    def list_runs(self, limit: int = 20, pipeline: str | None = None, status: str | None = None) -> list[Row]:
        """Runs, newest first; ``status`` filters on the *effective* status (``crashed`` included)."""
        from flowyml.metadata.status import effective_status

        runs = self.t.runs
        query = select(runs).order_by(runs.c.started_at.desc())
        if pipeline:
            query = query.where(runs.c.pipeline_name == pipeline)
        if status is None:
            return self.fetch(query.limit(limit))
        # A crashed run is stored 'running': filter in Python, over the rows that can have that status.
        stored = "running" if status == "crashed" else status
        rows = self.fetch(query.where(runs.c.status == stored))
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
        values = {
            "run_id": run_id, "step_name": step, "status": status, "started_at": started_at, "ended_at": ended_at,
            "cache_key": cache_key, "cached_from": cached_from, "error": error,
        }
        self._put((self._writes.record_step, values))

    def announce_step(self, run_id: str, step: str, started_at: float) -> None:
        """Record ``step`` ``running`` unless it has a row already (see :mod:`flowyml.metadata.announcer`)."""
        # the other columns are NULL: Prepared.args binds a column it is not given as NULL
        self._put((self._writes.announce_step, {"run_id": run_id, "step_name": step, "status": "running", "started_at": started_at}))

    def steps_of(self, run_id: str) -> list[Row]:
        steps = self.t.steps
        return self.fetch(select(steps).where(steps.c.run_id == run_id).order_by(steps.c.started_at))

    def record_attempt(
        self, run_id: str, step: str, attempt: int, status: str, started_at: float | None, ended_at: float | None, error: str | None
    ) -> None:
        """One attempt of a step that has retries or a timeout (see flowyml.runner.attempts)."""
        values = {
            "run_id": run_id, "step_name": step, "attempt": attempt, "status": status, "started_at": started_at,
            "ended_at": ended_at, "error": error,
        }
        self.write(self.upsert(self.t.step_attempts, values, ["run_id", "step_name", "attempt"]))

    def attempts_of(self, run_id: str, step: str | None = None) -> list[Row]:
        """The recorded attempts of a run's steps (of one step), in step then attempt order."""
        a = self.t.step_attempts
        query = select(a).where(a.c.run_id == run_id)
        if step is None:
            return self.fetch(query.order_by(a.c.step_name, a.c.attempt))
        return self.fetch(query.where(a.c.step_name == step).order_by(a.c.attempt))

    def step_rows(self, run_id: str, step: str | None = None) -> list[Row]:
        """A run's steps in the order they ran (steps that never started last, in recorded order)."""
        steps = self.t.steps
        query = select(steps).where(steps.c.run_id == run_id)
        if step is not None:
            query = query.where(steps.c.step_name == step)
        return self.fetch(query.order_by(steps.c.started_at.is_(None), steps.c.started_at, self.t.order_of(steps)))

    def find_cached(self, cache_key: str) -> Row | None:
        rows = self.fetch(self._sql.find_cached, {"key": cache_key})
        return rows[0] if rows else None

    # -- artifacts -------------------------------------------------------------

    def add_artifact(self, row: Mapping[str, Any], run_id: str, step: str, output: str) -> None:
        values = {
            "artifact_id": row["artifact_id"], "run_id": row["run_id"], "step_name": row["step_name"],
            "output_name": row["output_name"], "artifact_type": row["artifact_type"], "python_type": row.get("python_type"),
            "uri": row["uri"], "content_hash": row["content_hash"], "size": row.get("size"), "serializer": row.get("serializer"),
            "created_at": row.get("created_at", time.time()), "info": _dumps(row.get("info", {})),
        }
        output_row = {"run_id": run_id, "step_name": step, "output_name": output, "artifact_id": row["artifact_id"]}
        self._put((self._writes.insert_artifact, values), (self._writes.record_output, output_row))

    def artifact_exists(self, artifact_id: str) -> bool:
        arts = self.t.artifacts
        return bool(self.fetch(select(arts.c.artifact_id).where(arts.c.artifact_id == artifact_id)))

    def get_artifact(self, artifact_id: str) -> Row | None:
        arts = self.t.artifacts
        rows = self.fetch(select(arts).where(arts.c.artifact_id == artifact_id))
        if not rows:
            rows = self.fetch(select(arts).where(self.prefix_of(arts.c.artifact_id, artifact_id)))
            if len(rows) != 1:
                return None
        return rows[0]

    def _outputs(self, newest_first: bool = False) -> Any:
        so, a = self.t.step_outputs, self.t.artifacts
        on = a.c.artifact_id == so.c.artifact_id
        if newest_first:
            # Walk artifacts newest first (index artifacts_created) and look each one's outputs up: an
            # expression on the artifact side keeps SQLite's planner from scanning step_outputs whole instead.
            on = a.c.artifact_id.concat("") == so.c.artifact_id
        return select(so.c.step_name.label("out_step"), so.c.output_name.label("out_name"), a).select_from(so.join(a, on))

    def outputs_of(self, run_id: str, step: str | None = None) -> list[Row]:
        so, a = self.t.step_outputs, self.t.artifacts
        query = self._outputs().where(so.c.run_id == run_id)
        if step is not None:
            query = query.where(so.c.step_name == step)
        return self.fetch(query.order_by(a.c.created_at))

    def list_artifacts(self, run_id: str | None = None, limit: int = 100) -> list[Row]:
        if run_id:
            return self.outputs_of(run_id)
        return self.fetch(self._outputs(newest_first=True).order_by(self.t.artifacts.c.created_at.desc()).limit(limit))

    def record_consumption(self, run_id: str, step: str, input_name: str, artifact_id: str) -> None:
        self._put((self._writes.record_consumption, {"run_id": run_id, "step_name": step, "input_name": input_name, "artifact_id": artifact_id}))

    def consumers_of(self, run_id: str, artifact_id: str) -> list[str]:
        c = self.t.consumptions
        rows = self.fetch(select(c.c.step_name).distinct().where(c.c.run_id == run_id, c.c.artifact_id == artifact_id))
        return [r["step_name"] for r in rows]

    def inputs_of(self, run_id: str, step: str) -> list[Row]:
        c, a = self.t.consumptions, self.t.artifacts
        return self.fetch(
            select(c.c.input_name, a)
            .select_from(c.join(a, a.c.artifact_id == c.c.artifact_id))
            .where(c.c.run_id == run_id, c.c.step_name == step)
        )

    # -- routing ------------------------------------------------------------------

    def add_route_event(
        self, run_id: str, step: str | None, artifact_id: str | None, action: str, target: str | None, status: str, detail: str
    ) -> None:
        values = {
            "run_id": run_id, "step_name": step, "artifact_id": artifact_id, "action": action, "target": target,
            "status": status, "detail": detail, "created_at": time.time(),
        }
        self._put((self._writes.add_route_event, values))

    def route_events(self, run_id: str) -> list[Row]:
        events = self.t.route_events
        return self.fetch(select(events).where(events.c.run_id == run_id).order_by(events.c.id))

    # -- whole-run reads and deletes ---------------------------------------------------

    def raw_text(self, sql: str, **params: Any) -> list[Row]:
        """Rows of a portable SQL statement with ``:name`` parameters (a query Core cannot say more plainly)."""
        return self.fetch(text(sql), params)
