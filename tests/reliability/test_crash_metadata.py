"""The metadata store after crashes: owners, heartbeats, the derived ``crashed`` status, migration, the WAL race."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from flowyml.errors import MetadataError
from flowyml.metadata.heartbeat import Heartbeat
from flowyml.metadata.owner import current_owner, pid_alive, process_start
from flowyml.metadata.status import STALE_AFTER, effective_status, effective_step_status
from flowyml.metadata.store import SCHEMA_VERSION, MetadataStore
from standins.dead_process import dead_process

# -- the race: processes opening a new project's database at once ------------------------------------


OPENER = """
import os, sys, time
from pathlib import Path
from flowyml.metadata.store import MetadataStore
path, gate, name = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
(gate.parent / name).touch()  # ready
while not gate.exists():
    time.sleep(0.0005)
MetadataStore(path).start_run(name, "p", "s", "flag", {}, None)
"""


def test_eight_processes_open_a_fresh_project_at_once_20_times(tmp_path: Path) -> None:
    failures = []
    for round_ in range(20):
        db, gate = tmp_path / f"p{round_}" / ".flowyml" / "metadata.db", tmp_path / f"gate{round_}" / "go"
        gate.parent.mkdir()
        procs = [
            subprocess.Popen([sys.executable, "-c", OPENER, str(db), str(gate), f"r{n}"], stderr=subprocess.PIPE, text=True)
            for n in range(8)
        ]
        deadline = time.monotonic() + 120
        while len(list(gate.parent.iterdir())) < 8 and time.monotonic() < deadline:
            time.sleep(0.005)
        gate.touch()  # all eight open the new database at this instant
        errors = [proc.communicate(timeout=120)[1] for proc in procs]
        failures += [f"round {round_}: {e.strip().splitlines()[-1]}" for e, proc in zip(errors, procs, strict=True) if proc.returncode]
        if not failures:
            with sqlite3.connect(db) as conn:
                assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
                assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 8
    assert not failures, failures


# -- migration -----------------------------------------------------------------------------------------

V1_RUNS = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY, pipeline_name TEXT NOT NULL, stack_name TEXT NOT NULL,
    stack_reason TEXT, status TEXT NOT NULL, started_at REAL, ended_at REAL,
    params TEXT, error TEXT, target TEXT
);
INSERT INTO meta VALUES ('schema_version', '1');
"""


def test_a_version_1_database_opens_and_is_migrated(tmp_path: Path) -> None:
    db = tmp_path / ".flowyml" / "metadata.db"
    db.parent.mkdir()
    with sqlite3.connect(db) as conn:
        conn.executescript(V1_RUNS)
        old = time.time() - 3600
        conn.execute("INSERT INTO runs VALUES ('old-done', 'p', 's', 'file', 'completed', ?, ?, '{}', NULL, NULL)", (old, old + 1))
        conn.execute("INSERT INTO runs VALUES ('old-stuck', 'p', 's', 'file', 'running', ?, NULL, '{}', NULL, NULL)", (old,))
    store = MetadataStore(db)
    columns = {r["name"] for r in store.query("PRAGMA table_info(runs)")}
    assert {"owner_host", "owner_pid", "owner_started", "owner_scope", "heartbeat_at"} <= columns
    assert store.query("SELECT value FROM meta WHERE key='schema_version'")[0]["value"] == str(SCHEMA_VERSION)
    assert effective_status(store.get_run("old-done")) == "completed"
    # written before owners were recorded, no heartbeat for an hour: its process is gone
    assert effective_status(store.get_run("old-stuck")) == "crashed"
    store.start_run("new", "p", "s", "flag", {}, None)
    assert [r["run_id"] for r in store.list_runs(status="running")] == ["new"]
    assert MetadataStore(db).get_run("new")["owner_pid"] > 0  # opening again is a no-op


def test_a_newer_database_is_refused_naming_both_versions(tmp_path: Path) -> None:
    db = tmp_path / "metadata.db"
    MetadataStore(db).execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    with pytest.raises(MetadataError, match=f"schema version 99; this FlowyML reads up to version {SCHEMA_VERSION}"):
        MetadataStore(db)


# -- owners and the effective status -------------------------------------------------------------------


def _row(**values: Any) -> dict[str, Any]:
    me = current_owner()
    row = {"status": "running", "started_at": time.time(), "heartbeat_at": time.time(),
           "owner_host": me.host, "owner_pid": me.pid, "owner_started": me.started, "owner_scope": me.scope}
    return {**row, **values}


def test_the_owner_records_host_pid_start_time_and_scope() -> None:
    me = current_owner()
    assert me.host == socket.gethostname() and me.pid > 0
    assert me.started and me.started == process_start(me.pid)
    assert me.scope and me.checkable_here() and me.alive() is True


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is POSIX")
def test_a_forked_child_is_another_owner() -> None:
    """Bug caught: the owner this process remembers handed to a forked child (its folders then look like the parent's)."""
    parent = current_owner()
    assert current_owner() is parent  # remembered, not read from /proc again at every staging folder
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report what it is as an owner, then leave without running pytest's exit
        try:
            child = current_owner()
            os.write(write, json.dumps([child.pid, child.started, child.scope_key, process_start(os.getpid())]).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as fh:
        child_pid, child_started, child_key, child_start_read = json.loads(fh.read())
    os.waitpid(pid, 0)
    assert child_pid == pid != parent.pid
    assert child_started == child_start_read and child_started  # the child's own start time
    assert child_key == parent.scope_key  # same host, boot and pid namespace
    assert current_owner() is parent


def test_an_owner_follows_a_host_name_change(monkeypatch) -> None:
    parent = current_owner()
    monkeypatch.setattr(socket, "gethostname", lambda: "renamed-host")
    renamed = current_owner()
    assert renamed.host == "renamed-host" and renamed.pid == parent.pid and renamed.started == parent.started
    assert renamed.scope_key != parent.scope_key


def test_a_running_run_is_crashed_once_its_owner_is_gone() -> None:
    pid, started = dead_process()
    assert pid_alive(pid, started) is False
    assert effective_status(_row()) == "running"
    assert effective_status(_row(owner_pid=pid, owner_started=started)) == "crashed"
    # the heartbeat does not matter when the pid can be checked
    assert effective_status(_row(owner_pid=pid, owner_started=started, heartbeat_at=time.time() + 60)) == "crashed"


def test_a_reused_pid_is_not_taken_for_the_owner() -> None:
    me = current_owner()
    other_start = str(int(me.started) - 1)  # same pid, a process that started at another time
    assert effective_status(_row(owner_started=other_start)) == "crashed"


def test_a_zombie_owner_is_dead() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    started = process_start(proc.pid)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] != "Z":  # exited, not reaped
        assert time.monotonic() < deadline
        time.sleep(0.01)
    try:
        assert effective_status(_row(owner_pid=proc.pid, owner_started=started)) == "crashed"
    finally:
        proc.wait()


def test_an_owner_on_another_host_is_judged_by_its_heartbeat() -> None:
    now = time.time()
    elsewhere = {"owner_host": "another-machine", "owner_pid": 1}
    assert effective_status(_row(**elsewhere, heartbeat_at=now - 5), now=now) == "running"
    assert effective_status(_row(**elsewhere, heartbeat_at=now - STALE_AFTER - 1), now=now) == "crashed"
    container = {"owner_scope": "another-boot/pid:[1]", "owner_pid": 1}  # same host name, another pid namespace
    assert effective_status(_row(**container, heartbeat_at=now - STALE_AFTER - 1), now=now) == "crashed"
    assert effective_status(_row(**container, heartbeat_at=now), now=now) == "running"


@pytest.mark.parametrize("final", ["completed", "failed", "interrupted"])
def test_final_statuses_are_kept(final: str) -> None:
    pid, started = dead_process()
    assert effective_status(_row(status=final, owner_pid=pid, owner_started=started)) == final


def test_steps_left_running_take_the_run_status() -> None:
    assert effective_step_status("running", "crashed") == "crashed"
    assert effective_step_status("running", "interrupted") == "interrupted"
    assert effective_step_status("completed", "crashed") == "completed"
    assert effective_step_status("running", "running") == "running"


def test_the_heartbeat_updates_the_run_until_stopped(tmp_path: Path) -> None:
    store = MetadataStore(tmp_path / "metadata.db")
    store.start_run("r", "p", "s", "flag", {}, None)
    first = store.get_run("r")["heartbeat_at"]
    beat = Heartbeat(store, "r", interval=0.05).start()
    deadline = time.monotonic() + 10
    while store.get_run("r")["heartbeat_at"] == first:
        assert time.monotonic() < deadline, "no heartbeat"
        time.sleep(0.02)
    beat.stop()
    assert not beat._thread.is_alive()
    stopped = store.get_run("r")["heartbeat_at"]
    time.sleep(0.2)
    assert store.get_run("r")["heartbeat_at"] == stopped


def test_list_runs_filters_on_the_effective_status(tmp_path: Path) -> None:
    store = MetadataStore(tmp_path / "metadata.db")
    pid, started = dead_process()
    store.start_run("live", "p", "s", "flag", {}, None)
    store.start_run("dead", "p", "s", "flag", {}, None)
    store.execute("UPDATE runs SET owner_pid=?, owner_started=? WHERE run_id='dead'", (pid, started))
    store.start_run("done", "p", "s", "flag", {}, None)
    store.finish_run("done", "completed")
    assert [r["run_id"] for r in store.list_runs(status="running")] == ["live"]
    assert [r["run_id"] for r in store.list_runs(status="crashed")] == ["dead"]
    assert [r["run_id"] for r in store.list_runs(status="completed")] == ["done"]
    assert len(store.list_runs()) == 3
