"""The metadata store on both engines: the embedded SQLite file and a shared PostgreSQL database (#14).

The same behaviour is checked on each (parametrized ``engine``): PostgreSQL is a
real server (tests/standins/postgres.py: a throwaway cluster on 127.0.0.1;
failing in CI when it cannot start, skipped with the reason elsewhere).
Then what only a URL brings: the ``metadata:`` setting of flowyml.yaml, an
unreachable database, the missing driver, masked passwords, migrations.
"""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.engines import free_port, store, url  # noqa: F401 (fixtures)

from flowyml import Client, pipeline, step
from flowyml.cli.main import cli
from flowyml.errors import ConfigError, InterpolationError, MetadataError
from flowyml.metadata import queries
from flowyml.metadata.schema import SCHEMA_VERSION
from flowyml.metadata.store import MetadataStore

PASSWORD = "Pw-7c1e-s3cret"


# -- the same behaviour on both engines --------------------------------------------------------


def test_runs_steps_and_the_cache_round_trip(store: MetadataStore) -> None:
    store.start_run("r1-aaaa", "train", "local", "flag", {"lr": 0.1}, "pipe.py")
    store.start_run("r2-bbbb", "train", "local", "flag", {}, None)
    run = store.get_run("r1-a")  # a unique prefix
    assert run is not None and run["run_id"] == "r1-aaaa" and queries.run_params(run) == {"lr": 0.1}
    assert run["user"] and run["host"] == socket.gethostname()
    assert store.get_run("r") is None  # ambiguous
    store.record_step("r1-aaaa", "fit", "running", started_at=10.0, cache_key="k1")
    store.record_step("r1-aaaa", "fit", "completed", ended_at=12.0)
    store.record_step("r1-aaaa", "skipped_one", "skipped", error="upstream failed")
    fit = queries.step_row(store, "r1-aaaa", "fit")
    assert fit is not None and (fit["status"], fit["started_at"], fit["cache_key"]) == ("completed", 10.0, "k1")
    assert [s["step_name"] for s in queries.step_rows(store, "r1-aaaa")] == ["fit", "skipped_one"]
    hit = store.find_cached("k1")
    assert hit is not None and hit["run_id"] == "r1-aaaa"
    assert store.find_cached("other") is None
    store.finish_run("r1-aaaa", "completed")
    assert [r["run_id"] for r in queries.list_run_rows(store, status="completed")] == ["r1-aaaa"]
    assert [r["run_id"] for r in queries.list_run_rows(store, limit=1, offset=1)] == ["r1-aaaa"]
    assert queries.resolve_run_id(store, "latest") == "r2-bbbb"
    assert queries.pipeline_names(store) == ["train"]


def test_artifacts_lineage_events_and_deletion(store: MetadataStore, tmp_path: Path) -> None:
    store.start_run("run-1", "p", "local", "flag", {}, None)
    row = {
        "artifact_id": "art-0001", "run_id": "run-1", "step_name": "make", "output_name": "output", "artifact_type": "Dataset",
        "uri": "file:///x", "content_hash": "h", "size": 3, "info": {"rows": 3},
    }
    store.add_artifact(row, "run-1", "make", "output")
    store.add_artifact(row, "run-1", "make", "output")  # twice: still one record
    store.record_consumption("run-1", "use", "data", "art-0001")
    assert [r["out_name"] for r in store.outputs_of("run-1")] == ["output"]
    assert [r["input_name"] for r in store.inputs_of("run-1", "use")] == ["data"]
    assert store.consumers_of("run-1", "art-0001") == ["use"]
    assert queries.resolve_artifact_id(store, "art-") == "art-0001"
    assert queries.runs_using_artifact(store, "art-0001") == ["run-1"]
    assert [r["step_name"] for r in queries.consumer_rows(store, "art-0001")] == ["use"]
    assert [a["artifact_id"] for a in store.list_artifacts()] == ["art-0001"]
    for action in ("store", "register", "deploy"):
        store.add_route_event("run-1", "make", "art-0001", action, None, "ok", action)
    assert [e["action"] for e in store.route_events("run-1")] == ["store", "register", "deploy"]
    store.add_tracked_metrics("run-1", "make", [("b", 2.0), ("a", 1.0)], None, None)
    assert [m["key"] for m in store.tracked_metrics("run-1")] == ["b", "a"]  # the order they were logged in


def test_a_transaction_is_all_or_nothing(store: MetadataStore) -> None:
    row = {"run_id": "t", "pipeline_name": "p", "stack_name": "s", "status": "running"}
    with pytest.raises(RuntimeError), store.transaction() as conn:
        conn.execute(store.t.runs.insert().values(**row))
        raise RuntimeError("abort")
    assert store.get_run("t") is None
    with store.transaction() as conn:
        conn.execute(store.t.runs.insert().values(**row))
    assert store.get_run("t") is not None


def test_model_versions_are_numbered_once_under_concurrent_registration(store: MetadataStore) -> None:
    """Threads on separate connections (PostgreSQL) allocate at once: every number is handed out exactly once."""
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def register(worker: int) -> None:
        try:
            start.wait()
            for i in range(5):

                def decide(rows: list, i: int = i) -> tuple[str, str, str]:
                    version = str(max((int(r["version"]) for r in rows), default=0) + 1)
                    return version, f'{{"worker": {worker}, "i": {i}}}', "registered"

                store.add_model_version("fraud", decide)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    rows = store.model_versions("fraud")
    assert [r["version"] for r in rows] == [str(n) for n in range(1, 21)]
    assert [r["seq"] for r in rows] == list(range(1, 21))
    latest = store.model_version("fraud", None)
    assert latest is not None and latest["version"] == "20"


# -- flowyml.yaml's metadata: setting ------------------------------------------------------------


@step
def touch(marker: str = "") -> int:
    if marker:
        Path(marker).write_text("ran")
    return 1


@pipeline
def tiny(marker: str = "") -> None:
    touch(marker)


CONFIG = "metadata:\n  url: ${FLOWYML_METADATA_URL}\nstacks:\n  local:\n    orchestrator: { type: local }\n    artifact_store: { type: local }\n"


def test_runs_go_to_the_database_metadata_url_names(project, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    project.write_config(CONFIG)
    monkeypatch.setenv("FLOWYML_METADATA_URL", url)
    run = tiny.run()
    assert run.success
    if url.startswith("postgresql"):
        assert not (project.path / ".flowyml" / "metadata.db").exists()  # nothing went to the embedded file
    client = Client()
    got = client.get_run(run.run_id)
    assert got.user and got.host == socket.gethostname()
    listed = CliRunner().invoke(cli, ["runs", "list"], catch_exceptions=False)
    header = listed.output.splitlines()[0].split()
    assert header[-2:] == ["USER", "HOST"], listed.output
    line = next(row for row in listed.output.splitlines() if row.startswith(run.run_id))
    assert line.split()[-2:] == [got.user, got.host]


def test_a_relative_sqlite_url_is_inside_the_project(project, monkeypatch: pytest.MonkeyPatch) -> None:
    project.write_config(CONFIG)
    monkeypatch.setenv("FLOWYML_METADATA_URL", "sqlite:///history/runs.db")
    (project.path / "sub").mkdir()
    monkeypatch.chdir(project.path / "sub")  # the project is found upwards; the path is still the project's
    run = tiny.run()
    assert not (project.path / "sub" / "history").exists()
    with sqlite3.connect(project.path / "history" / "runs.db") as conn:
        assert conn.execute("SELECT run_id FROM runs").fetchall() == [(run.run_id,)]


def test_an_empty_url_falls_back_to_the_embedded_database(project, monkeypatch: pytest.MonkeyPatch) -> None:
    project.write_config(CONFIG.replace("${FLOWYML_METADATA_URL}", "${FLOWYML_METADATA_URL:-}"))
    monkeypatch.delenv("FLOWYML_METADATA_URL", raising=False)
    tiny.run()
    assert (project.path / ".flowyml" / "metadata.db").is_file()


def test_an_unset_variable_is_an_error_with_the_line(project, monkeypatch: pytest.MonkeyPatch) -> None:
    project.write_config(CONFIG)
    monkeypatch.delenv("FLOWYML_METADATA_URL", raising=False)
    with pytest.raises(InterpolationError, match=r"FLOWYML_METADATA_URL is not set \(used by metadata.url\)") as caught:
        tiny.run()
    assert "flowyml.yaml:2" in str(caught.value)


@pytest.mark.parametrize(
    ("written", "message", "line"),
    [
        ("metadata:\n  url: mysql://u:Pw-7c1e-s3cret@h/db\n", "unsupported database 'mysql'", 2),
        ("metadata:\n  uri: sqlite:///x.db\n", "unknown metadata key 'uri'", 2),
        ("metadata: sqlite:///x.db\n", "metadata must be a mapping", 1),
        ("metadata:\n  url: postgresql://u:Pw-7c1e-s3cret@/db\n", "needs a host", 2),
        ("metadata:\n  url: 5432\n", "must be a database URL", 2),
    ],
)
def test_a_wrong_metadata_section_is_an_error_with_the_line(project, written: str, message: str, line: int) -> None:
    project.write_config(written)
    with pytest.raises(ConfigError, match=message) as caught:
        Client()
    assert f"flowyml.yaml:{line}" in str(caught.value)
    assert PASSWORD not in str(caught.value)


# -- an unreachable database, the missing driver, masked passwords ----------------------------------


def test_an_unreachable_database_fails_before_any_step_and_loses_nothing(
    project, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.write_config(CONFIG)
    monkeypatch.setenv("FLOWYML_METADATA_URL", postgres_url)
    first = tiny.run()
    port = free_port()
    wrong = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/flowyml"
    monkeypatch.setenv("FLOWYML_METADATA_URL", wrong)
    marker = project.path / "ran.txt"
    with pytest.raises(MetadataError) as caught:
        tiny.run(marker=str(marker))
    text = str(caught.value)
    assert f"127.0.0.1:{port}" in text and "***" in text and PASSWORD not in text
    assert not marker.exists()  # no step ran
    done = project.cli("runs", "list", env={"FLOWYML_METADATA_URL": wrong}, check=False)
    assert f"127.0.0.1:{port}" in done.stderr and "Traceback" not in done.stderr and PASSWORD not in done.stdout + done.stderr
    monkeypatch.setenv("FLOWYML_METADATA_URL", postgres_url)
    assert [r.run_id for r in Client().list_runs()] == [first.run_id]


def test_a_host_that_does_not_exist_and_a_missing_database_are_named(postgres_url: str, tmp_path: Path) -> None:
    with pytest.raises(MetadataError, match=r"at no-such-host\.invalid:5432") as caught:
        MetadataStore(f"postgresql://me:{PASSWORD}@no-such-host.invalid:5432/db", project_dir=tmp_path)
    assert PASSWORD not in str(caught.value)
    missing = postgres_url.rsplit("/", 1)[0] + "/no_such_database"
    with pytest.raises(MetadataError, match="no_such_database"):
        MetadataStore(missing, project_dir=tmp_path)


BLOCK_PSYCOPG = """
import sys

class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "psycopg" or name.startswith("psycopg."):
            raise ModuleNotFoundError("No module named 'psycopg'", name=name)
        return None

sys.meta_path.insert(0, Block())
from flowyml.cli.main import main
sys.argv = ["flowyml", "runs", "list"]
main()
"""


def test_a_postgresql_url_without_the_driver_says_how_to_install_it(project) -> None:
    project.write_config(f"metadata:\n  url: postgresql://me:{PASSWORD}@127.0.0.1:5432/db\n")
    done = subprocess.run([sys.executable, "-c", BLOCK_PSYCOPG], cwd=project.path, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "psycopg is not installed" in done.stderr and "pip install 'flowyml[postgres]'" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and PASSWORD not in done.stderr


def test_stack_show_names_the_metadata_database_without_its_password(project, monkeypatch: pytest.MonkeyPatch) -> None:
    project.write_config(CONFIG)
    monkeypatch.setenv("FLOWYML_METADATA_URL", f"postgresql://team:{PASSWORD}@db.example:5433/flowyml")
    shown = CliRunner().invoke(cli, ["stack", "show", "local"], catch_exceptions=False)
    assert "metadata: postgresql://team:***@db.example:5433/flowyml" in shown.output
    assert PASSWORD not in shown.output


# -- migrations --------------------------------------------------------------------------------------------

V2_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY, pipeline_name TEXT NOT NULL, stack_name TEXT NOT NULL,
    stack_reason TEXT, status TEXT NOT NULL, started_at REAL, ended_at REAL,
    params TEXT, error TEXT, target TEXT,
    owner_host TEXT, owner_pid INTEGER, owner_started TEXT, owner_scope TEXT, heartbeat_at REAL
);
CREATE TABLE steps (
    run_id TEXT NOT NULL, step_name TEXT NOT NULL, status TEXT NOT NULL,
    started_at REAL, ended_at REAL, cache_key TEXT, cached_from TEXT, error TEXT,
    PRIMARY KEY (run_id, step_name)
);
CREATE TABLE model_versions (
    name TEXT NOT NULL, version TEXT NOT NULL, seq INTEGER NOT NULL, record TEXT NOT NULL,
    status TEXT NOT NULL, created_at REAL, PRIMARY KEY (name, version)
);
INSERT INTO meta VALUES ('schema_version', '2');
INSERT INTO runs VALUES ('old', 'p', 's', 'file', 'completed', 1.0, 2.0, '{}', NULL, NULL, 'h', 1, '', '', 2.0);
INSERT INTO steps VALUES ('old', 'a', 'completed', 1.0, 2.0, 'k', NULL, NULL);
"""


def test_a_version_2_file_is_upgraded_on_open_keeping_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "metadata.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(V2_SCHEMA)
    store = MetadataStore(path)
    old = store.get_run("old")
    assert old is not None and old["status"] == "completed" and old["user"] is None and old["host"] is None
    assert store.find_cached("k") is not None
    store.start_run("new", "p", "s", "flag", {}, None)
    assert store.get_run("new")["host"] == socket.gethostname()  # type: ignore[index]
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == (str(SCHEMA_VERSION),)
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"runs_started", "steps_cache", "model_versions_seq"} <= indexes
    client_row = queries.list_run_rows(MetadataStore(path))  # opening again is a no-op
    assert [r["run_id"] for r in client_row] == ["new", "old"]


def test_a_newer_database_is_refused_on_both_engines(store: MetadataStore, url: str, tmp_path: Path) -> None:
    store.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    with pytest.raises(MetadataError, match=f"schema version 99; this FlowyML reads up to version {SCHEMA_VERSION}"):
        MetadataStore(url, project_dir=tmp_path)


def test_two_processes_creating_one_postgresql_database_at_once_both_open_it(postgres_url: str, tmp_path: Path) -> None:
    code = textwrap.dedent(f"""
        from flowyml.metadata.store import MetadataStore
        MetadataStore({postgres_url!r}).start_run(__import__("os").urandom(4).hex(), "p", "s", "flag", {{}}, None)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True) for _ in range(4)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), errors
    assert len(MetadataStore(postgres_url, project_dir=tmp_path).list_runs()) == 4


def test_a_wrong_password_is_named_without_the_password(postgres_cluster, postgres_database, tmp_path: Path) -> None:
    """The stand-in trusts every local user: this test gives one role a password and makes the server ask for it."""
    import time
    import uuid

    import psycopg

    role = f"pw_{uuid.uuid4().hex[:8]}"
    hba = postgres_cluster.data_dir / "pg_hba.conf"
    hba.write_text(f"host all {role} 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
    with psycopg.connect(postgres_database.url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'right-{PASSWORD}'")
        admin.execute(f'ALTER DATABASE "{postgres_database.name}" OWNER TO {role}')
        admin.execute("SELECT pg_reload_conf()")
    time.sleep(0.5)  # the postmaster reads pg_hba.conf again on SIGHUP
    where = f"{postgres_cluster.host}:{postgres_cluster.port}"
    with pytest.raises(MetadataError, match=f"at {where}.*password authentication failed") as caught:
        MetadataStore(f"postgresql://{role}:{PASSWORD}@{where}/{postgres_database.name}", project_dir=tmp_path)
    assert PASSWORD not in str(caught.value) and f"{role}:***@" in str(caught.value)
    store = MetadataStore(f"postgresql://{role}:right-{PASSWORD}@{where}/{postgres_database.name}", project_dir=tmp_path)
    store.start_run("with-password", "p", "s", "flag", {}, None)
    assert store.get_run("with-password") is not None


def test_the_url_password_is_in_no_record_output_or_log(
    project, postgres_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The stand-in trusts local connections, so a URL with any password connects: the password must then appear nowhere."""
    import logging

    import psycopg

    with_password = postgres_url.replace("postgres@", f"postgres:{PASSWORD}@", 1)
    project.write_config(CONFIG)
    monkeypatch.setenv("FLOWYML_METADATA_URL", with_password)
    caplog.set_level(logging.DEBUG)
    run = tiny.run()
    assert run.success
    shown = "".join(
        CliRunner().invoke(cli, args, catch_exceptions=False).output
        for args in (["runs", "list"], ["runs", "show", run.run_id], ["stack", "show", "local"], ["artifacts", "list"])
    )
    assert run.run_id in shown and "postgres:***@" in shown  # stack show names the database
    logged = "\n".join(r.getMessage() for r in caplog.records)
    with psycopg.connect(postgres_url) as conn:
        tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        stored = "\n".join(str(row) for t in tables for row in conn.execute(f'SELECT * FROM "{t}"'))
    assert run.run_id in stored
    for where, text in (("CLI output", shown), ("logs", logged), ("the database", stored)):
        assert PASSWORD not in text, f"the URL password is in {where}"


def test_deleting_a_run_removes_its_records_on_both_engines(project, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    project.write_config(CONFIG)
    monkeypatch.setenv("FLOWYML_METADATA_URL", url)
    first, second = tiny.run(), tiny.run()
    done = CliRunner().invoke(cli, ["runs", "delete", first.run_id, "--artifacts"], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    client = Client()
    assert [r.run_id for r in client.list_runs()] == [second.run_id]
    db = client.metadata
    assert db.steps_of(first.run_id) == [] and db.outputs_of(first.run_id) == [] and db.route_events(first.run_id) == []
    assert len(db.outputs_of(second.run_id)) == 1
