"""Pytest plugin: a real, throwaway PostgreSQL cluster on 127.0.0.1 for the shared-metadata tests.

Loaded by the root ``conftest.py`` like every stand-in (or ``-p standins.postgres`` with ``tests``
on ``PYTHONPATH``).

Fixtures:

* ``postgres_cluster`` (session): ``initdb`` + ``pg_ctl start`` of a new cluster in a temporary
  folder, listening on a free port of 127.0.0.1 only, with ``trust`` authentication for the
  ``postgres`` superuser. Stopped with ``pg_ctl -m fast stop`` and its folder removed at the end
  of the session, whether the tests passed or not.
  With ``FLOWYML_PG_CLUSTER=PORT:FOLDER`` set, the fixture uses that running cluster (one
  :func:`start_postgres_cluster` made, e.g. for every mutant process of ``nox -s mutation``)
  and leaves it running.
* ``postgres_database`` / ``postgres_url`` (function): a fresh database (``CREATE DATABASE``)
  in that cluster for each test, dropped afterwards; the URL is
  ``postgresql://postgres@127.0.0.1:PORT/DBNAME``.

The server binaries are Debian's ``postgresql`` package (``/usr/lib/postgresql/<version>/bin``,
the newest installed version wins; ``.ci/run`` installs the package when it is missing), or an
``initdb`` on ``PATH`` elsewhere; ``FLOWYML_PG_BIN`` names another folder. ``initdb`` and
``pg_ctl`` refuse to run as root, so as root they run as the ``postgres`` user (``runuser``) in a
folder that user owns.

When the cluster cannot start, the tests that need it **fail** in CI (``CI`` set to true/1/yes)
and are **skipped** with the reason elsewhere. Only the standard library and pytest are imported
at module level; ``psycopg`` (the driver the store uses, ``flowyml[postgres]``) is imported when a
database is created.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "PostgresCluster",
    "PostgresDatabase",
    "PostgresUnavailable",
    "find_bin_dir",
    "in_ci",
    "start_postgres_cluster",
]

#: Folder holding initdb/pg_ctl, overriding the search.
BIN_ENV = "FLOWYML_PG_BIN"
#: ``PORT:FOLDER`` of a running cluster to use instead of starting one (see :meth:`PostgresCluster.spec`).
CLUSTER_ENV = "FLOWYML_PG_CLUSTER"
SUPERUSER = "postgres"
HOST = "127.0.0.1"
START_ATTEMPTS = 3
#: Server settings for a disposable test cluster: nothing has to survive a crash of the machine,
#: so durability is traded for speed (transactions, locks and isolation are unchanged).
SERVER_SETTINGS = {
    "listen_addresses": HOST,
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL cluster cannot be started here; the message says why and how to fix it."""


def in_ci() -> bool:
    """True when running in CI (``CI`` set to true/1/yes), where a missing PostgreSQL is a failure."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def find_bin_dir() -> Path:
    """The folder with ``initdb`` and ``pg_ctl``: ``$FLOWYML_PG_BIN``, else the newest Debian
    ``/usr/lib/postgresql/<version>/bin``, else the one on ``PATH``."""
    override = os.environ.get(BIN_ENV)
    if override:
        folder = Path(override)
        if not (folder / "initdb").is_file():
            raise PostgresUnavailable(f"{BIN_ENV}={override} has no initdb in it")
        return folder
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    if found:
        return max(found, key=lambda p: _version_key(p.parent.name))
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise PostgresUnavailable(
        "no PostgreSQL server binaries (initdb) found in /usr/lib/postgresql/*/bin or on PATH: "
        "install them with `apt-get install -y postgresql` (Debian/Ubuntu) or set "
        f"{BIN_ENV} to the folder holding initdb and pg_ctl"
    )


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit()) or (0,)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresDatabase:
    """One database in a running cluster."""

    name: str
    url: str


class PostgresCluster:
    """A PostgreSQL cluster this process started (see :func:`start_postgres_cluster`)."""

    def __init__(self, bin_dir: Path, root: Path, port: int, as_postgres: bool) -> None:
        self.bin_dir = bin_dir
        self.root = root
        self.port = port
        self.host = HOST
        self._as_postgres = as_postgres
        self._running = False
        self._attached = False

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_path(self) -> Path:
        return self.root / "log"

    @property
    def spec(self) -> str:
        """``PORT:FOLDER``, the value of ``FLOWYML_PG_CLUSTER`` that lets other processes use this cluster."""
        return f"{self.port}:{self.root}"

    @classmethod
    def attach(cls, spec: str) -> PostgresCluster:
        """The running cluster ``spec`` names (its :attr:`spec`); :meth:`stop` of the result does nothing."""
        port, sep, root = spec.partition(":")
        if not sep or not port.isdigit() or not Path(root).is_dir():
            raise PostgresUnavailable(f"{CLUSTER_ENV}={spec!r} is not PORT:FOLDER of a running cluster")
        cluster = cls(find_bin_dir(), Path(root), int(port), hasattr(os, "geteuid") and os.geteuid() == 0)
        cluster._attached = True
        return cluster

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy/psycopg URL of ``database`` for the ``postgres`` superuser (no password)."""
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{database}"

    def log_tail(self, max_chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-max_chars:]
        except OSError:
            return ""

    # --- process control ------------------------------------------------------------------
    def _command(self, tool: str, *args: str) -> list[str]:
        command = [str(self.bin_dir / tool), *args]
        return ["runuser", "-u", SUPERUSER, "--", *command] if self._as_postgres else command

    def _run(self, tool: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self._command(tool, *args), capture_output=True, text=True, timeout=timeout,
            stdin=subprocess.DEVNULL, cwd=self.root,
        )

    def _initdb(self) -> None:
        done = self._run(
            "initdb", "-D", str(self.data_dir), "-A", "trust", "-U", SUPERUSER,
            "-E", "UTF8", "--locale=C", "--no-sync",
        )
        if done.returncode != 0:
            raise PostgresUnavailable(f"initdb failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")

    def _start(self) -> None:
        options = " ".join(
            [f"-p {self.port}", f"-k {self.root}", *(f"-c {k}={v}" for k, v in SERVER_SETTINGS.items())]
        )
        done = self._run(
            "pg_ctl", "-D", str(self.data_dir), "-o", options, "-l", str(self.log_path), "-w", "-t", "60", "start"
        )
        if done.returncode != 0:
            raise PostgresUnavailable(
                f"pg_ctl start on port {self.port} failed (exit {done.returncode}):\n"
                f"{done.stdout}\n{done.stderr}\nserver log:\n{self.log_tail()}"
            )
        self._running = True

    def stop(self) -> None:
        """Stop the server (``-m fast``: open sessions are rolled back) and remove its folder.

        Calling it twice is harmless; an attached cluster (:meth:`attach`) is left as it is."""
        if self._attached:
            return
        if self._running:
            self._running = False
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    # --- databases ------------------------------------------------------------------------
    def _admin(self) -> Any:
        try:
            import psycopg
        except ImportError as exc:
            raise PostgresUnavailable(
                f"psycopg is not installed ({exc}): pip install 'psycopg[binary]' "
                "(the core's `postgres` extra)"
            ) from exc
        return psycopg.connect(self.url("postgres"), autocommit=True, connect_timeout=10)

    def create_database(self, name: str | None = None) -> PostgresDatabase:
        """``CREATE DATABASE`` a new, empty database (a fresh name unless one is given)."""
        name = name or f"t_{uuid.uuid4().hex[:16]}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return PostgresDatabase(name=name, url=self.url(name))

    def drop_database(self, name: str) -> None:
        """Drop ``name``, closing any connection still open to it (``WITH (FORCE)``)."""
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_postgres_cluster() -> PostgresCluster:
    """initdb and start a new cluster on a free port of 127.0.0.1; the caller must ``stop()`` it.

    Raises :class:`PostgresUnavailable` with the reason when that is not possible here.
    """
    bin_dir = find_bin_dir()
    as_postgres = hasattr(os, "geteuid") and os.geteuid() == 0
    if as_postgres:
        if shutil.which("runuser") is None:
            raise PostgresUnavailable("running as root, and runuser (util-linux) is missing to run initdb as postgres")
        try:
            import pwd

            account = pwd.getpwnam(SUPERUSER)
        except KeyError:
            raise PostgresUnavailable(
                "running as root, and there is no `postgres` user to run initdb/pg_ctl as "
                "(Debian's postgresql package creates it)"
            ) from None
    # Not under pytest's basetemp: that is private to root (0700), and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="flowyml-pg-"))
    last_error: PostgresUnavailable | None = None
    for _attempt in range(START_ATTEMPTS):
        if as_postgres:
            os.chown(root, account.pw_uid, account.pw_gid)
        cluster = PostgresCluster(bin_dir, root, _free_port(), as_postgres)
        try:
            cluster._initdb()
            cluster._start()
            return cluster
        except PostgresUnavailable as exc:
            last_error = exc
            if "already in use" not in cluster.log_tail():
                cluster.stop()
                raise
        except BaseException:
            cluster.stop()
            raise
        # Someone took the port between _free_port() and the start: wipe and try another one.
        cluster.stop()
        root.mkdir(mode=0o700)
        time.sleep(0.2)
    shutil.rmtree(root, ignore_errors=True)
    assert last_error is not None
    raise last_error


def _unavailable(reason: str) -> None:
    message = f"PostgreSQL is needed by this test and could not start: {reason}"
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """One throwaway PostgreSQL cluster for the whole session (stopped at its end), or the running one
    ``FLOWYML_PG_CLUSTER`` names."""
    spec = os.environ.get(CLUSTER_ENV)
    if spec:  # asked for a cluster that is not there: a mistake to report, never a skip
        try:
            cluster = PostgresCluster.attach(spec)
        except PostgresUnavailable as exc:
            pytest.fail(str(exc), pytrace=False)
    else:
        try:
            cluster = start_postgres_cluster()
        except (PostgresUnavailable, OSError, subprocess.SubprocessError) as exc:
            _unavailable(str(exc))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def postgres_database(postgres_cluster: PostgresCluster) -> Iterator[PostgresDatabase]:
    """A fresh, empty database in the session's cluster, dropped after the test."""
    try:
        database = postgres_cluster.create_database()
    except PostgresUnavailable as exc:
        _unavailable(str(exc))
    try:
        yield database
    finally:
        postgres_cluster.drop_database(database.name)


@pytest.fixture
def postgres_url(postgres_database: PostgresDatabase) -> str:
    """``postgresql://postgres@127.0.0.1:PORT/DBNAME`` of a fresh database for this test."""
    return postgres_database.url
