"""MetadataStore's own methods, called directly on both engines: what each one stores and returns.

The run-level tests (test_metadata.py, test_metadata_engines.py) go through the runner and the
client; these pin the store's contract method by method, so that a wrong column, a dropped
condition or a lost ordering in :mod:`flowyml.metadata.store` fails here by name. Written from the
survivors of ``nox -s mutation`` (group ``metadata``); PostgreSQL is the real throwaway cluster of
tests/standins/postgres.py.
"""

from __future__ import annotations

import getpass
import socket
import threading
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError
from support.engines import free_port, store, url  # noqa: F401 (fixtures)

from flowyml import redaction
from flowyml.errors import MetadataError
from flowyml.metadata import store as store_module
from flowyml.metadata.store import MetadataStore

# -- opening ------------------------------------------------------------------------------


def test_a_path_given_as_text_is_a_file_and_a_relative_url_is_inside_the_project(tmp_path: Path, monkeypatch) -> None:
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    as_text = MetadataStore(str(tmp_path / "plain" / "a.db"))  # no "://": a path, parents created
    assert as_text.path == tmp_path / "plain" / "a.db" and as_text.path.is_file()
    project = tmp_path / "project"
    by_url = MetadataStore("sqlite:///state/deep/b.db", project_dir=project)  # relative to the project, not the cwd
    assert by_url.path == project / "state" / "deep" / "b.db" and by_url.path.is_file()
    assert by_url.url.dialect == "sqlite" and by_url.display == str(project / "state" / "deep" / "b.db")
    from_cwd = MetadataStore("sqlite:///c.db")  # no project given: the working directory
    assert from_cwd.path == elsewhere / "c.db"
    for opened in (as_text, by_url, from_cwd):
        opened.close()


def test_opening_a_sqlite_file_takes_the_lock_file_beside_it(tmp_path: Path) -> None:
    opened = MetadataStore(tmp_path / "m.db")
    assert (tmp_path / "m.db.lock").is_file()  # the lock that serializes switching a new file to WAL
    assert opened.query("PRAGMA journal_mode")[0]["journal_mode"] == "wal"
    opened.close()


def test_a_file_that_is_not_a_database_fails_to_open_with_its_name(tmp_path: Path) -> None:
    bad = tmp_path / "metadata.db"
    bad.write_bytes(b"this is not an SQLite database file, only text" * 100)
    with pytest.raises(MetadataError) as raised:
        MetadataStore(bad)
    assert str(raised.value).startswith(f"cannot open the metadata database {bad}: file is not a database")
    assert raised.value.hint and "writable" in raised.value.hint


def test_an_unreachable_postgresql_fails_to_open_naming_where_and_masks_its_password(tmp_path: Path) -> None:
    password = "Unreach-9f2d-secret"
    port = free_port()  # nothing listens there
    with pytest.raises(MetadataError) as raised:
        MetadataStore(f"postgresql://team:{password}@127.0.0.1:{port}/flowyml", project_dir=tmp_path)
    message = str(raised.value)
    assert message.startswith(f"cannot open the metadata database at 127.0.0.1:{port} (database 'flowyml', ")
    assert password not in message and "***" in message
    # the password is registered for redaction for the rest of the process, whatever prints it later
    assert password not in redaction.redact(f"an error mentioning {password}")


def test_a_broken_table_is_a_metadata_error_naming_the_database_and_other_errors_pass_through(tmp_path: Path) -> None:
    # SQLite reports a missing table as an OperationalError (the class the store names the database for);
    # psycopg reports it as a ProgrammingError, so this is SQLite's case only.
    store = MetadataStore(tmp_path / "metadata.db")
    store.execute("DROP TABLE route_events")
    with pytest.raises(MetadataError) as raised:  # through one of the per-step writes (_put)
        store.add_route_event("r", None, None, "store", None, "ok", "")
    assert str(raised.value).startswith(f"cannot use the metadata database {tmp_path / 'metadata.db'}: no such table: route_events")
    with pytest.raises(MetadataError) as raised:  # through a read (connect): the driver's words, not "None"
        store.route_events("r")
    assert str(raised.value).startswith(f"cannot use the metadata database {tmp_path / 'metadata.db'}: no such table: route_events")
    store.start_run("dup", "p", "s", "flag", {}, None)
    with pytest.raises(IntegrityError):  # not the database's fault: the caller's, left as it is
        store.execute("INSERT INTO runs (run_id, pipeline_name, stack_name, status) VALUES (?, ?, ?, ?)", ["dup", "p", "s", "running"])


def test_a_held_step_the_database_cannot_take_is_committed_whole_once_it_can(tmp_path: Path, monkeypatch) -> None:
    """Bug caught: held step records dropped when their commit fails (the database locked or broken for a
    while), or a step's rows committed in part."""
    import sqlite3

    monkeypatch.setattr("flowyml.metadata.pending.FLUSH_AFTER", 3600.0)  # commit when the test says so

    db = tmp_path / "metadata.db"
    store = MetadataStore(db)  # SQLite: see above
    store.start_run("r", "p", "s", "flag", {}, None)
    with sqlite3.connect(db) as raw:
        raw.execute("ALTER TABLE route_events RENAME TO route_events_away")
    with store.one_transaction():
        store.record_step("r", "a", "completed", started_at=1.0)
        store.add_route_event("r", "a", None, "store", None, "ok", "")
    with pytest.raises(MetadataError, match="no such table: route_events"):
        store.flush()
    with sqlite3.connect(db) as raw:  # the step's row went with the failed event
        assert raw.execute("SELECT COUNT(*) FROM steps").fetchone()[0] == 0
        raw.execute("ALTER TABLE route_events_away RENAME TO route_events")
    store.record_step("r", "b", "completed", started_at=2.0)  # the next write commits the held step first
    assert [s["step_name"] for s in store.step_rows("r")] == ["a", "b"]
    assert [e["step_name"] for e in store.route_events("r")] == ["a"]


def test_a_held_step_the_database_refuses_is_dropped_naming_it_and_the_others_are_committed(tmp_path: Path, monkeypatch) -> None:
    """Bug caught: one refused record (a constraint) keeping every later step from being committed, or taking
    the steps held with it down too."""
    import sqlite3

    monkeypatch.setattr("flowyml.metadata.pending.FLUSH_AFTER", 3600.0)

    db = tmp_path / "metadata.db"
    store = MetadataStore(db)
    store.start_run("r", "p", "s", "flag", {}, None)
    with sqlite3.connect(db) as raw:
        raw.execute("CREATE TRIGGER refuse BEFORE INSERT ON steps WHEN NEW.step_name = 'bad' BEGIN SELECT RAISE(ABORT, 'no'); END")
    for name in ("good", "bad", "also_good"):
        with store.one_transaction():
            store.record_step("r", name, "completed", started_at=1.0)
    with pytest.raises(sqlite3.IntegrityError) as raised:  # the driver's error, as for any write it refuses
        store.record_step("r", "direct", "completed", started_at=2.0)  # a write that commits the held ones first
    assert "the records of step 'bad' were not committed" in str(raised.value.__notes__)
    assert {s["step_name"] for s in store.step_rows("r")} == {"good", "also_good", "direct"}
    mark = store._pending_file.mark_key
    assert dict(sqlite3.connect(db).execute("SELECT key, value FROM meta").fetchall())[mark] == "3"
    with store.one_transaction():  # nothing is left held to fail again
        store.record_step("r", "later", "completed", started_at=2.0)
    store.flush()
    assert {s["step_name"] for s in store.step_rows("r")} == {"good", "also_good", "direct", "later"}


def test_a_newer_database_is_refused_naming_it(url: str, tmp_path: Path) -> None:
    from flowyml.metadata.schema import SCHEMA_VERSION

    first = MetadataStore(url, project_dir=tmp_path)
    first.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION + 1)])
    first.close()
    with pytest.raises(MetadataError) as raised:
        MetadataStore(url, project_dir=tmp_path)
    assert f"the metadata database {first.display} has schema version {SCHEMA_VERSION + 1}" in str(raised.value)


def test_threads_opening_a_fresh_postgresql_database_at_once_all_open_it(postgres_cluster, tmp_path: Path) -> None:
    # The tables of a new database are created by whoever opens it first, under an advisory lock: without
    # it, openers racing through CREATE TABLE fail on PostgreSQL's catalog (duplicate key in pg_type).
    for _round in range(3):
        database = postgres_cluster.create_database()
        try:
            barrier = threading.Barrier(6)
            opened: list[MetadataStore] = []
            failures: list[BaseException] = []

            def open_it() -> None:
                barrier.wait()
                try:
                    opened.append(MetadataStore(database.url, project_dir=tmp_path))
                except BaseException as exc:
                    failures.append(exc)

            threads = [threading.Thread(target=open_it) for _ in range(6)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(120)
            assert not failures, failures
            assert len(opened) == 6
            opened[0].start_run("r", "p", "s", "flag", {}, None)
            assert all(store.run_exists("r") for store in opened)
            for store in opened:
                store.close()
        finally:
            postgres_cluster.drop_database(database.name)


def test_the_store_of_a_loaded_configuration_is_the_one_it_names_even_if_the_file_changed_since(project) -> None:
    from flowyml.config.loader import load_project

    stacks = "stacks:\n  s:\n    orchestrator: { type: local }\n    artifact_store: { type: local }\nactive_stack: s\n"
    project.write_config("metadata:\n  url: sqlite:///loaded.db\n" + stacks)
    loaded = load_project(project.path)
    project.write_config("metadata:\n  url: sqlite:///edited.db\n" + stacks)  # edited while the run goes on
    assert MetadataStore.of(loaded).path == project.path / "loaded.db"


def test_two_postgresql_databases_of_one_server_are_two_stores(postgres_cluster, postgres_url: str, tmp_path: Path) -> None:
    second = postgres_cluster.create_database()
    try:
        first_store = MetadataStore.for_project(tmp_path, postgres_url)
        second_store = MetadataStore.for_project(tmp_path, second.url)
        assert first_store is not second_store and MetadataStore.for_project(tmp_path, postgres_url) is first_store
        first_store.start_run("only-in-first", "p", "s", "flag", {}, None)
        assert not second_store.run_exists("only-in-first")
        second_store.close()
        first_store.close()
    finally:
        postgres_cluster.drop_database(second.name)


def test_of_and_for_project_use_the_projects_metadata_url(project) -> None:
    from flowyml.config.loader import load_project

    project.write_config(
        "metadata:\n  url: sqlite:///team/shared.db\nstacks:\n  s:\n    orchestrator: { type: local }\n"
        "    artifact_store: { type: local }\nactive_stack: s\n"
    )
    opened = MetadataStore.of(load_project(project.path))
    assert opened.path == project.path / "team" / "shared.db"
    assert MetadataStore.for_project(project.path) is opened  # one store per database and process
    other = MetadataStore.for_project(project.path, f"sqlite:///{project.path / 'other.db'}")
    assert other is not opened and other.path == project.path / "other.db"


# -- runs ---------------------------------------------------------------------------------


def test_run_params_that_json_cannot_say_are_stored_as_text(store: MetadataStore, tmp_path: Path) -> None:
    store.start_run("r", "p", "s", "flag", {"where": tmp_path, "n": 1}, None)
    row = store.get_run("r")
    assert row is not None and row["params"] == f'{{"n": 1, "where": "{tmp_path}"}}'  # sorted keys, str() of the rest


def test_a_run_without_a_login_name_has_no_user(store: MetadataStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_login() -> str:
        raise KeyError("getpwuid(): uid not found: 4242")

    monkeypatch.setattr(getpass, "getuser", no_login)
    store.start_run("r", "p", "s", "flag", {}, None)
    row = store.get_run("r")
    assert row is not None and row["user"] is None and row["host"] == socket.gethostname()
    assert store_module._who() == (None, socket.gethostname())


def test_a_heartbeat_moves_only_its_runs_heartbeat(store: MetadataStore) -> None:
    store.start_run("r1", "p", "s", "flag", {}, None)
    store.start_run("r2", "p", "s", "flag", {}, None)
    store.execute("UPDATE runs SET heartbeat_at = ?", [5.0])
    store.heartbeat("r1")
    beats = {r["run_id"]: r["heartbeat_at"] for r in store.list_runs()}
    assert beats["r1"] > 5.0 and beats["r2"] == 5.0


def test_run_exists_and_artifact_exists(store: MetadataStore) -> None:
    assert not store.run_exists("r") and not store.artifact_exists("a")
    store.start_run("r", "p", "s", "flag", {}, None)
    row = {"artifact_id": "a", "run_id": "r", "step_name": "s", "output_name": "o", "artifact_type": "Dataset", "uri": "u", "content_hash": "h"}
    store.add_artifact(row, "r", "s", "o")
    assert store.run_exists("r") and store.artifact_exists("a")
    assert not store.run_exists("r2") and not store.artifact_exists("a2")


def test_list_runs_filters_running_and_failed_by_their_stored_status(store: MetadataStore) -> None:
    for run_id, status in (("r1", "completed"), ("r2", "failed"), ("r3", None)):
        store.start_run(run_id, "p", "s", "flag", {}, None)
        if status:
            store.finish_run(run_id, status, "boom" if status == "failed" else None)
    assert [r["run_id"] for r in store.list_runs(status="running")] == ["r3"]  # this process is alive: running
    assert [r["run_id"] for r in store.list_runs(status="failed")] == ["r2"]
    assert store.list_runs(status="crashed") == []


# -- steps and attempts ------------------------------------------------------------------


def test_record_step_stores_every_column(store: MetadataStore) -> None:
    store.record_step("r", "s", "cached", started_at=1.5, ended_at=2.5, cache_key="k", cached_from="r0", error="e")
    (row,) = store.step_rows("r")
    got = {k: row[k] for k in ("run_id", "step_name", "status", "started_at", "ended_at", "cache_key", "cached_from", "error")}
    assert got == {
        "run_id": "r", "step_name": "s", "status": "cached", "started_at": 1.5, "ended_at": 2.5, "cache_key": "k",
        "cached_from": "r0", "error": "e",
    }


def test_an_announced_step_is_running_with_nothing_else_and_never_overwrites(store: MetadataStore) -> None:
    store.announce_step("r", "slow", 3.0)
    (row,) = store.step_rows("r")
    assert (row["status"], row["started_at"], row["ended_at"], row["cache_key"], row["cached_from"], row["error"]) == (
        "running", 3.0, None, None, None, None,
    )
    store.record_step("r", "done", "completed", started_at=1.0, ended_at=2.0, cache_key="k", error=None)
    store.announce_step("r", "done", 9.0)  # a late announcement of a finished step changes nothing
    done = store.step_rows("r", "done")[0]
    assert (done["status"], done["started_at"], done["ended_at"], done["cache_key"]) == ("completed", 1.0, 2.0, "k")


def test_step_rows_are_in_start_order_with_never_started_steps_last_in_recorded_order(store: MetadataStore) -> None:
    store.record_step("r", "skipped_b", "skipped")
    store.record_step("r", "late", "completed", started_at=20.0)
    store.record_step("r", "skipped_a", "skipped")
    store.record_step("r", "early", "completed", started_at=10.0)
    store.record_step("other", "x", "completed", started_at=0.0)
    assert [s["step_name"] for s in store.step_rows("r")] == ["early", "late", "skipped_b", "skipped_a"]
    assert [s["step_name"] for s in store.step_rows("r", "late")] == ["late"]


def test_attempts_are_per_run_and_step_in_order_and_recording_one_again_updates_it(store: MetadataStore) -> None:
    for run_id, step, attempt in (("r", "b", 2), ("r", "b", 1), ("r", "a", 2), ("r", "a", 1), ("other", "a", 1)):
        store.record_attempt(run_id, step, attempt, "failed", float(attempt), float(attempt) + 0.5, f"{run_id}/{step}/{attempt}")
    assert [(a["step_name"], a["attempt"]) for a in store.attempts_of("r")] == [("a", 1), ("a", 2), ("b", 1), ("b", 2)]
    assert [(a["step_name"], a["attempt"]) for a in store.attempts_of("r", "b")] == [("b", 1), ("b", 2)]
    assert [a["error"] for a in store.attempts_of("other")] == ["other/a/1"]
    store.record_attempt("r", "b", 2, "completed", 2.0, 3.0, None)  # the same attempt again: updated in place
    last = store.attempts_of("r", "b")[-1]
    assert (last["attempt"], last["status"], last["started_at"], last["ended_at"], last["error"]) == (2, "completed", 2.0, 3.0, None)
    assert len(store.attempts_of("r")) == 4


def test_upsert_updates_every_other_column_the_named_ones_or_none(store: MetadataStore) -> None:
    runs = store.t.runs
    base = {"run_id": "u", "pipeline_name": "p", "stack_name": "s", "status": "running"}
    store.write(store.upsert(runs, base, ["run_id"]))
    store.write(store.upsert(runs, {**base, "pipeline_name": "p2", "status": "failed"}, ["run_id"]))
    row = store.get_run("u")
    assert row is not None and (row["pipeline_name"], row["status"]) == ("p2", "failed")  # default: all but the key
    store.write(store.upsert(runs, {**base, "pipeline_name": "p3", "status": "completed"}, ["run_id"], update=["status"]))
    row = store.get_run("u")
    assert row is not None and (row["pipeline_name"], row["status"]) == ("p2", "completed")  # only the named column
    store.write(store.upsert(runs, {**base, "status": "lost"}, ["run_id"], update=[]))
    row = store.get_run("u")
    assert row is not None and row["status"] == "completed"  # nothing to update: the row stays
    store.write(store.upsert(runs, {"run_id": "v", "pipeline_name": "p", "stack_name": "s", "status": "running"}, ["run_id"], update=[]))
    assert store.run_exists("v")  # ...and a new key is still inserted


# -- artifacts, lineage, events, plain SQL ---------------------------------------------------


def test_consumers_of_an_artifact_are_only_the_steps_that_read_that_one(store: MetadataStore) -> None:
    store.record_consumption("r", "train", "data", "a1")
    store.record_consumption("r", "evaluate", "data", "a1")
    store.record_consumption("r", "report", "model", "a2")
    store.record_consumption("r2", "other", "data", "a1")
    assert sorted(store.consumers_of("r", "a1")) == ["evaluate", "train"]
    assert store.consumers_of("r", "a2") == ["report"]


def test_plain_sql_takes_its_parameters_and_a_percent_sign_is_text(store: MetadataStore) -> None:
    store.start_run("r-100%", "p", "s", "flag", {}, None)
    store.start_run("r-2", "p", "s", "flag", {}, None)
    assert [r["run_id"] for r in store.query("SELECT run_id FROM runs WHERE run_id = ?", ["r-100%"])] == ["r-100%"]
    assert [r["v"] for r in store.query("SELECT run_id || ? AS v FROM runs WHERE run_id LIKE 'r-1%'", ["!"])] == ["r-100%!"]
    store.execute("UPDATE runs SET status = ? WHERE run_id = ?", ["failed", "r-2"])
    assert [r["run_id"] for r in store.raw_text("SELECT run_id FROM runs WHERE status = :s", s="failed")] == ["r-2"]
