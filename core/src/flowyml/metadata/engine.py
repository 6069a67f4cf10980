"""SQLAlchemy engines for the metadata database, and its failures as clear errors.

SQLite: one connection per store (a ``sqlite3`` connection in autocommit mode
with a 30 s busy timeout; transactions are ``BEGIN IMMEDIATE``), WAL journal.
PostgreSQL: psycopg 3 (the ``flowyml[postgres]`` extra) with a small pool;
the server is reached once when the store opens, so a wrong host, port or
password fails before any step runs. Errors name the database by
:attr:`DatabaseURL.display`, never with its password.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool

from flowyml.errors import MetadataError
from flowyml.metadata.database_url import DatabaseURL
from flowyml.redaction import redact

__all__ = ["database_error", "make_engine"]

#: Seconds to wait for a PostgreSQL server to answer before the store fails to open.
CONNECT_TIMEOUT = 10
SQLITE_BUSY_TIMEOUT = 30.0


def _postgres_hint() -> str:
    from flowyml.plugins.install import checkout_root

    root = checkout_root()
    published = "pip install 'flowyml[postgres]'"
    return published if root is None else f"{published} (from this checkout: pip install '{root / 'core'}[postgres]')"


def make_engine(url: DatabaseURL) -> Engine:
    """An engine for ``url`` (nothing is connected yet)."""
    if url.dialect == "sqlite":
        assert url.path is not None
        path = str(url.path)

        def connect() -> sqlite3.Connection:
            return sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)

        # One connection, held by the store for its life; the store serializes its threads.
        return create_engine("sqlite://", creator=connect, poolclass=StaticPool)
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise MetadataError(
            f"the metadata database {url.display} is PostgreSQL, but its driver psycopg is not installed ({exc})",
            hint="install the PostgreSQL driver (psycopg 3) with: " + _postgres_hint(),
        ) from None
    sa_url = URL.create(
        "postgresql+psycopg",
        username=url.user or None,
        password=url.password or None,
        host=url.host,
        port=url.port,
        database=url.database,
        query=dict(url.query),
    )
    engine = create_engine(
        sa_url,
        pool_size=4,
        max_overflow=8,
        pool_pre_ping=True,  # a connection the server dropped (restart, idle timeout) is replaced, not failed
        hide_parameters=True,  # values never appear in SQLAlchemy's error messages
        connect_args={"connect_timeout": CONNECT_TIMEOUT, "application_name": "flowyml"},
    )
    return engine


def database_error(exc: BaseException, url: DatabaseURL, doing: str) -> MetadataError:
    """``exc`` (a driver or SQLAlchemy error) as a :class:`MetadataError` naming the database, password masked."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    detail = " ".join(str(cause).split()) or type(cause).__name__
    if url.password:
        detail = detail.replace(url.password, "***")
    detail = redact(detail)
    if url.dialect == "postgresql":
        return MetadataError(
            f"cannot {doing} the metadata database at {url.host}:{url.port} (database {url.database!r}, "
            f"{url.display}): {detail}",
            hint="check metadata.url in flowyml.yaml (and the variables it uses): the host, the port, the user and "
            "password, and that the server is running and accepts connections from this machine",
        )
    return MetadataError(
        f"cannot {doing} the metadata database {url.path}: {detail}",
        hint="check the file's folder exists and is writable, and that no other program holds it locked",
    )

