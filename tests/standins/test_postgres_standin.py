"""Self-tests of the PostgreSQL stand-in (tests/standins/postgres.py), driven by psycopg.

    PYTHONPATH=tests pytest -p standins.postgres tests/standins/test_postgres_standin.py
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from standins.postgres import (
    BIN_ENV,
    CLUSTER_ENV,
    PostgresCluster,
    PostgresUnavailable,
    find_bin_dir,
    start_postgres_cluster,
)

psycopg = pytest.importorskip("psycopg", reason="psycopg is the core's `postgres` extra: pip install 'psycopg[binary]'")

pytestmark = pytest.mark.slow

TESTS = Path(__file__).resolve().parents[1]


def _connects(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError:
        return False
    return True


def test_url_is_a_fresh_database_on_loopback(postgres_url: str, postgres_cluster: PostgresCluster) -> None:
    assert postgres_url.startswith(f"postgresql://postgres@127.0.0.1:{postgres_cluster.port}/t_")
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT current_database(), current_user").fetchone() == (
            postgres_url.rsplit("/", 1)[1],
            "postgres",
        )
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
        assert tables == (0,)
        conn.execute("CREATE TABLE t (id serial PRIMARY KEY, v text)")
        conn.execute("INSERT INTO t (v) VALUES ('a'), ('b')")
        conn.commit()
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT v FROM t ORDER BY id").fetchall() == [("a",), ("b",)]
        assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
        assert int(conn.execute("SHOW server_version_num").fetchone()[0]) >= 130000  # DROP ... WITH (FORCE)


def test_each_test_gets_another_database(postgres_url: str, postgres_cluster: PostgresCluster) -> None:
    # the previous test's table is not here, and its database was dropped
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone() == (0,)
    with psycopg.connect(postgres_cluster.url()) as conn:
        names = [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 't\\_%'")]
    assert names == [postgres_url.rsplit("/", 1)[1]]


def test_dropping_closes_open_connections(postgres_cluster: PostgresCluster) -> None:
    database = postgres_cluster.create_database()
    left_open = psycopg.connect(database.url)
    try:
        postgres_cluster.drop_database(database.name)
        with psycopg.connect(postgres_cluster.url()) as conn:
            assert conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database.name,)).fetchone() is None
    finally:
        left_open.close()


def test_stop_stops_the_server_and_removes_its_folder() -> None:
    try:
        cluster = start_postgres_cluster()
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))
    try:
        assert _connects(cluster.host, cluster.port)
        assert (cluster.data_dir / "PG_VERSION").is_file()
    finally:
        cluster.stop()
    assert not _connects(cluster.host, cluster.port)
    assert not cluster.root.exists()
    cluster.stop()  # twice is harmless


def test_bin_dir_is_the_newest_installed_version() -> None:
    found = find_bin_dir()
    assert (found / "initdb").is_file() and (found / "pg_ctl").is_file()


_NEEDS_POSTGRES = """
def test_needs_postgres(postgres_url):
    pass
"""


@pytest.mark.parametrize(("ci", "outcome"), [("true", "1 error"), ("", "1 skipped")])
def test_unavailable_server_fails_in_ci_and_skips_elsewhere(tmp_path: Path, ci: str, outcome: str) -> None:
    (tmp_path / "test_needs.py").write_text(_NEEDS_POSTGRES)
    (tmp_path / "no-binaries").mkdir()
    env = {**os.environ, "PYTHONPATH": str(TESTS), "CI": ci, BIN_ENV: str(tmp_path / "no-binaries"), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "standins.postgres", "-p", "no:cacheprovider", "-rsf", "-q", "test_needs.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert outcome in done.stdout, done.stdout + done.stderr
    assert "could not start" in done.stdout and "has no initdb" in done.stdout, done.stdout


_USES_POSTGRES = """
def test_uses_postgres(postgres_url, postgres_cluster):
    assert postgres_url.startswith(f"postgresql://postgres@127.0.0.1:{postgres_cluster.port}/t_")
"""


def _pytest_in(folder: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PYTHONPATH": str(TESTS), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", **env}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "standins.postgres", "-p", "no:cacheprovider", "-rsf", "-q", "."],
        cwd=folder, env=full, capture_output=True, text=True, timeout=120,
    )


def test_a_running_cluster_named_by_the_variable_is_used_and_left_running(postgres_cluster: PostgresCluster, tmp_path: Path) -> None:
    (tmp_path / "test_uses.py").write_text(_USES_POSTGRES)
    before = _databases(postgres_cluster)
    # no initdb reachable: had the fixture tried to start a cluster of its own, it could not
    done = _pytest_in(tmp_path, **{CLUSTER_ENV: postgres_cluster.spec, BIN_ENV: str(postgres_cluster.bin_dir), "CI": "true"})
    assert "1 passed" in done.stdout, done.stdout + done.stderr
    assert _connects(postgres_cluster.host, postgres_cluster.port) and postgres_cluster.data_dir.is_dir()
    assert _databases(postgres_cluster) == before  # its test database was dropped again


def _databases(cluster: PostgresCluster) -> set[str]:
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        return {r[0] for r in conn.execute("SELECT datname FROM pg_database")}


def test_a_variable_naming_no_cluster_fails_even_outside_ci(tmp_path: Path) -> None:
    (tmp_path / "test_uses.py").write_text(_USES_POSTGRES)
    done = _pytest_in(tmp_path, **{CLUSTER_ENV: f"5432:{tmp_path / 'no-such-folder'}", "CI": ""})
    assert "1 error" in done.stdout and "is not PORT:FOLDER of a running cluster" in done.stdout, done.stdout + done.stderr
