"""Versioned schema migrations of the metadata database.

The version lives in ``meta`` (``key='schema_version'``). Opening a database:

1. a version above :data:`~flowyml.metadata.schema.SCHEMA_VERSION` is refused,
   naming both versions, before anything is written;
2. missing tables are created (with the current columns);
3. every migration above the stored version runs, in order. Migrations only add
   (columns, indexes) and each checks what is already there, so a database
   created at the current version, or migrated halfway by a process that died,
   comes out the same;
4. missing indexes are created, and the current version is written.

The caller holds the opening lock (a file lock for SQLite, an advisory lock on
PostgreSQL) and a transaction, so two processes opening one database at once
migrate it once, and a failure leaves it as it was.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Column, Connection, inspect, select
from sqlalchemy.schema import CreateIndex

from flowyml.errors import MetadataError
from flowyml.metadata.schema import SCHEMA_VERSION, Tables

__all__ = ["MIGRATIONS", "migrate", "stored_version"]


def _add_columns(table: str, *names: str) -> Callable[[Connection, Tables], None]:
    def step(conn: Connection, tables: Tables) -> None:
        have = {c["name"] for c in inspect(conn).get_columns(table)}
        target = tables.metadata.tables[table]
        for name in names:
            if name not in have:
                column: Column[object] = target.c[name]
                kind = column.type.compile(dialect=conn.dialect)
                quoted = conn.dialect.identifier_preparer.quote(name)
                conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {quoted} {kind}")

    return step


#: (version, what it adds, how): each brings a database from version - 1 to version.
MIGRATIONS: tuple[tuple[int, str, Callable[[Connection, Tables], None]], ...] = (
    (2, "run owners and heartbeats", _add_columns("runs", "owner_host", "owner_pid", "owner_started", "owner_scope", "heartbeat_at")),
    (3, "who and where a run was started", _add_columns("runs", "user", "host")),
)


def stored_version(conn: Connection, tables: Tables) -> int | None:
    """The schema version written in the database, or None (a new database)."""
    if not inspect(conn).has_table("meta"):
        return None
    row = conn.execute(select(tables.meta.c.value).where(tables.meta.c.key == "schema_version")).first()
    return int(row[0]) if row else None


def migrate(conn: Connection, tables: Tables, where: str) -> int:
    """Bring the database on ``conn`` to the current schema; returns the version it had (None: new)."""
    found = stored_version(conn, tables)
    if found is not None and found > SCHEMA_VERSION:
        raise MetadataError(
            f"the metadata database {where} has schema version {found}; this FlowyML reads up to version {SCHEMA_VERSION}",
            hint="upgrade flowyml to open this project",
        )
    had_runs = inspect(conn).has_table("runs")
    tables.metadata.create_all(conn, checkfirst=True)
    start = found if found is not None else (1 if had_runs else SCHEMA_VERSION)
    for version, _what, step in MIGRATIONS:
        if version > start:
            step(conn, tables)
    have = _index_names(conn)
    for index in tables.indexes:
        if index.name not in have:
            conn.execute(CreateIndex(index, if_not_exists=True))
    value = str(SCHEMA_VERSION)
    if found is None:
        conn.execute(tables.meta.insert().values(key="schema_version", value=value))
    elif found != SCHEMA_VERSION:
        conn.execute(tables.meta.update().where(tables.meta.c.key == "schema_version").values(value=value))
    return start


def _index_names(conn: Connection) -> set[str]:
    if conn.dialect.name == "sqlite":
        return {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='index'")}
    return {r[0] for r in conn.exec_driver_sql("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")}
