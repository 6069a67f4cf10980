"""Step records held between two SQLite commits (flowyml.metadata.pending): kept across a kill, never applied twice,
never taken from a live writer, never trusted when edited, never committed by a forked child."""

from __future__ import annotations

import errno
import json
import logging
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from flowyml.metadata import pending
from flowyml.metadata import store as store_module
from flowyml.metadata.pending import PendingFile, folder_for
from flowyml.metadata.status import effective_status
from flowyml.metadata.store import MetadataStore

KILLED_IN_THIRD_STEP = """
import os, signal
from flowyml.metadata import pending
from flowyml.metadata.announcer import StepAnnouncer

pending.FLUSH_AFTER = 3600.0  # nothing commits the two ended steps but the pending file's next reader
StepAnnouncer.started = lambda self, step, at: None  # nor an announcement (a step slowed past 50 ms by a busy machine)

from flowyml import pipeline, step

@step(cache=False)
def first() -> int:
    return 1

@step(cache=False)
def second(value: int) -> int:
    return value + 1

@step(cache=False)
def dies(value: int) -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return value

@pipeline
def chain() -> None:
    dies(second(first()))

chain.run()
"""


def _route_event(run_id: str, n: int) -> tuple[str, dict[str, object]]:
    return "add_route_event", {
        "run_id": run_id, "step_name": f"s{n}", "artifact_id": None, "action": "store", "target": "t", "status": "ok",
        "detail": "", "created_at": float(n),
    }


def _events(db: Path) -> list[str]:
    with sqlite3.connect(db) as raw:
        return [r[0] for r in raw.execute("SELECT step_name FROM route_events ORDER BY id")]


def _marks(db: Path) -> list[str]:
    with sqlite3.connect(db) as raw:
        return [r[0] for r in raw.execute("SELECT key FROM meta WHERE key LIKE 'journal:%'")]


@pytest.fixture(autouse=True)
def _commits_only_when_told(monkeypatch: pytest.MonkeyPatch) -> None:
    """No commit for a record's age (0.1 s): the tests say when held records are committed."""
    monkeypatch.setattr(pending, "FLUSH_AFTER", 3600.0)


def _store_and_folder(tmp_path: Path) -> tuple[Path, MetadataStore, Path]:
    """A database, a store on it, and its (created) folder of pending files."""
    db = tmp_path / "metadata.db"
    store = MetadataStore(db)
    folder = folder_for(db)
    folder.mkdir()
    return db, store, folder


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold ``path``'s lock as its live writer would."""
    import fcntl

    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _kill_a_run_in_its_third_step(project: Path) -> subprocess.CompletedProcess[str]:
    (project / "pipelines.py").write_text(KILLED_IN_THIRD_STEP)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "pipelines.py"], cwd=project, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == -signal.SIGKILL, done.stderr
    return done


def test_a_run_killed_between_commits_keeps_its_completed_steps(tmp_path: Path) -> None:
    """Bug caught: the ended steps' records held only in memory (a kill loses every step since the last commit),
    or a dead process's pending file never committed, by a store already open or by the next to open."""
    project = tmp_path / "project"
    project.mkdir()
    db = project / ".flowyml" / "metadata.db"
    reader = MetadataStore(db)  # open before the kill, as a dashboard is
    for attempt in ("a store already open reads it", "the next store to open commits it"):
        _kill_a_run_in_its_third_step(project)
        files = list(folder_for(db).glob("*.jsonl"))
        assert len(files) == 1 and files[0].read_bytes().count(b"\n") == 2, attempt  # one record per ended step
        run_id = sqlite3.connect(db).execute("SELECT run_id FROM runs ORDER BY started_at DESC").fetchone()[0]
        with sqlite3.connect(db) as raw:  # nothing of the two steps reached the database itself
            assert raw.execute("SELECT COUNT(*) FROM steps WHERE run_id = ?", (run_id,)).fetchone()[0] == 0
        if attempt.startswith("a store already open"):
            steps = reader.steps_of(run_id)
        else:
            fresh = MetadataStore(db)
            assert not list(folder_for(db).glob("*.jsonl")), "opening the database commits a dead process's records"
            steps = fresh.steps_of(run_id)
        assert [(s["step_name"], s["status"]) for s in steps] == [("first", "completed"), ("second", "completed")], attempt
        assert [a["out_step"] for a in reader.outputs_of(run_id)] == ["first", "second"]
        assert effective_status(reader.get_run(run_id)) == "crashed"
        assert not list(folder_for(db).iterdir()) and _marks(db) == []


def test_records_committed_before_their_writer_died_are_not_committed_again(tmp_path: Path) -> None:
    """Bug caught: a dead process's file replayed whole, so the records it had committed (it died before
    emptying its file) are written twice."""
    db = tmp_path / "metadata.db"
    store = MetadataStore(db)
    store.start_run("r", "p", "s", "flag", {}, None)
    writer = PendingFile(folder_for(db))
    for n in (1, 2, 3):
        writer.append([_route_event("r", n)])
    with sqlite3.connect(db) as raw:  # records 1 and 2 committed, with the mark: then the writer died
        for n in (1, 2):
            raw.execute("INSERT INTO route_events (run_id, step_name, action, status, detail) VALUES ('r', ?, 'store', 'ok', '')", (f"s{n}",))
        raw.execute("INSERT INTO meta (key, value) VALUES (?, '2')", (writer.mark_key,))
    writer.forget()  # its lock goes, as when the process dies
    assert store.route_events("r") and _events(db) == ["s1", "s2", "s3"]
    assert _marks(db) == [] and not writer.path.exists()


def test_a_live_writers_pending_file_is_left_alone(tmp_path: Path) -> None:
    """Bug caught: a reader committing (and removing) the file of a process still running, whose own commit
    then writes the same records again."""
    db = tmp_path / "metadata.db"
    store = MetadataStore(db)
    writer = PendingFile(folder_for(db))
    writer.append([_route_event("r", 1)])  # holds its lock from here on
    assert store.route_events("r") == [] and writer.path.exists()
    assert MetadataStore(db).route_events("r") == [] and writer.path.exists()  # nor on opening
    writer.forget()
    assert [e["step_name"] for e in store.route_events("r")] == ["s1"]


def _raw(body: bytes, crc: int | None = None) -> bytes:
    return b"%08x %s\n" % (zlib.crc32(body) if crc is None else crc, body)


def _line(seq: int, writes: list, crc: int | None = None) -> bytes:
    return _raw(json.dumps([seq, writes]).encode(), crc)


CHECKSUM, NOT_A_RECORD, OUT_OF_ORDER = (
    "its checksum does not match", "it is not a record of step writes", "its sequence number does not follow the previous line's"
)
#: edit -> (the line that replaces record 2, what the warning says of it)
EDITS = {
    "a checksum that does not match": (lambda w: _line(2, [list(w)], crc=0), CHECKSUM),
    "a statement not written per step": (lambda w: _line(2, [["drop_mark", {"key": "schema_version"}]]), NOT_A_RECORD),
    "a mark moved by hand": (lambda w: _line(2, [["set_mark", {"key": "schema_version", "value": "999"}]]), NOT_A_RECORD),
    "raw SQL as the statement": (lambda w: _line(2, [["DELETE FROM runs", {}]]), NOT_A_RECORD),
    "a value that is not a scalar": (lambda w: _line(2, [[w[0], {**w[1], "detail": ["a", "list"]}]]), NOT_A_RECORD),
    "a boolean value": (lambda w: _line(2, [[w[0], {**w[1], "status": True}]]), NOT_A_RECORD),
    "a sequence number going back": (lambda w: _line(1, [list(w)]), OUT_OF_ORDER),
    "not a record": (lambda w: _raw(b'{"a": 1}'), NOT_A_RECORD),
    "a record of three parts": (lambda w: _raw(json.dumps([2, [], 3]).encode()), NOT_A_RECORD),
    "a record without its writes": (lambda w: _raw(b"[2]"), NOT_A_RECORD),
    "not JSON": (lambda w: _raw(b"{not json"), "it does not parse (Expecting property name enclosed in double quotes"),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_an_edited_pending_file_is_committed_up_to_the_edit_and_kept(edit: str, tmp_path: Path, caplog) -> None:
    """Bug caught: an edited line applied (any statement or value it names), or the whole file dropped, or the
    damage not reported."""
    db, store, folder = _store_and_folder(tmp_path)
    store.start_run("r", "p", "s", "flag", {}, None)
    path = folder / "0123abcd.jsonl"
    line, reason = EDITS[edit]
    path.write_bytes(_line(1, [list(_route_event("r", 1))]) + line(_route_event("r", 2)) + _line(3, [list(_route_event("r", 3))]))
    with caplog.at_level(logging.WARNING, "flowyml.metadata"):
        rows = store.route_events("r")
    assert [e["step_name"] for e in rows] == ["s1"], edit
    kept = folder / "0123abcd.unreadable"
    assert not path.exists() and kept.exists()
    assert (
        f"the pending step records {path} are damaged (line 2: {reason}" in caplog.text
        and f"; the 1 records before it were committed, and the file is kept as {kept}" in caplog.text
    ), caplog.text
    assert store.get_run("r")["status"] == "running"  # nothing the edit named was run
    meta = dict(sqlite3.connect(db).execute("SELECT key, value FROM meta").fetchall())
    assert meta.keys() == {"schema_version", "journal:0123abcd"} and meta["schema_version"] != "999"
    assert meta["journal:0123abcd"] == "1"  # should the file be mended and put back, line 1 is not applied again


def test_a_line_cut_short_by_a_kill_is_dropped_quietly(tmp_path: Path, caplog) -> None:
    """Bug caught: the last line a killed process was writing taken for damage (the file kept, a warning), or
    applied in part."""
    _, store, folder = _store_and_folder(tmp_path)
    path = folder / "feed.jsonl"
    path.write_bytes(_line(1, [list(_route_event("r", 1))]) + _line(2, [list(_route_event("r", 2))])[:-9])
    with caplog.at_level(logging.WARNING, "flowyml.metadata"):
        assert [e["step_name"] for e in store.route_events("r")] == ["s1"]
    assert not list(folder.iterdir()) and caplog.text == ""


def test_a_forked_child_neither_commits_nor_removes_its_parents_held_records(tmp_path: Path, monkeypatch) -> None:
    """Bug caught: a child forked by a step (multiprocessing, a server) inheriting the held records and the
    pending file: at its exit it commits them (then the parent again: twice) and removes the parent's file."""
    db = tmp_path / "metadata.db"
    store = MetadataStore(db)
    store.start_run("r", "p", "s", "flag", {}, None)
    with store.one_transaction():
        store.add_route_event("r", "s1", None, "store", "t", "ok", "")
    held_in = store._pending_file.path
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 0
        try:
            store_module._close_all_pending()  # what its exit does
            store.flush()
        except BaseException:
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert _events(db) == [] and held_in.exists()
    store.flush()
    assert _events(db) == ["s1"]


def test_ended_steps_reach_other_readers_soon_even_when_nothing_else_is_written(tmp_path: Path, monkeypatch) -> None:
    """Bug caught: held records committed only by the next step's end or write, so a run busy in a step that was
    announced long ago (or between steps) keeps its ended steps from every other process."""
    from flowyml.metadata.announcer import StepAnnouncer

    db = tmp_path / "metadata.db"
    store = MetadataStore(db)
    store.start_run("r", "p", "s", "flag", {}, None)
    announcer = StepAnnouncer(store, "r")
    announcer.started("long", time.time() - 10)  # announced at once, then running on
    deadline = time.monotonic() + 20
    while not sqlite3.connect(db).execute("SELECT 1 FROM steps WHERE step_name = 'long'").fetchall():
        assert time.monotonic() < deadline, "the step was never announced"
        time.sleep(0.01)
    with store.one_transaction():  # a step that ends after the announcement: nothing else writes from here
        store.add_route_event("r", "ended", None, "store", "t", "ok", "")
    try:
        deadline = time.monotonic() + 20
        while not _events(db) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _events(db) == ["ended"]
    finally:
        announcer.stop()


def test_closing_a_store_commits_what_it_holds_and_removes_its_file_and_mark(tmp_path: Path, monkeypatch) -> None:
    """Bug caught: records still held when the store closes left to the next process's take-over (or lost),
    the pending file left behind, or its mark left in the database."""
    db = tmp_path / "metadata.db"
    store = MetadataStore(db)
    store.start_run("r", "p", "s", "flag", {}, None)
    with store.one_transaction():
        store.add_route_event("r", "first", None, "store", "t", "ok", "")
    store.flush()
    with store.one_transaction():
        store.add_route_event("r", "closed", None, "store", "t", "ok", "")
    (held,) = folder_for(db).iterdir()
    assert held.parent == tmp_path / "metadata.db.pending" and held.suffix == ".jsonl"
    assert stat.S_IMODE(held.stat().st_mode) == 0o600  # the rows' own privacy
    data = held.read_bytes()  # appended after the commit emptied it: one whole line, no hole before it
    assert data.count(b"\n") == 1 and data.endswith(b"\n") and b"\0" not in data and b'"closed"' in data
    assert _marks(db) == [held.name.replace(".jsonl", "").join(["journal:", ""])]
    store.close()
    assert _events(db) == ["first", "closed"] and not list(folder_for(db).iterdir()) and _marks(db) == []


def test_exiting_commits_what_the_process_holds_and_removes_its_file(tmp_path: Path) -> None:
    """Bug caught: no exit hook, so a process that ends normally between two commits leaves its last steps
    to the next process (or, with no next process, uncommitted)."""
    db = tmp_path / "metadata.db"
    MetadataStore(db).close()
    script = (
        "import sys\nfrom flowyml.metadata import pending\nfrom flowyml.metadata.store import MetadataStore\n"
        "pending.FLUSH_AFTER = 3600.0\nstore = MetadataStore(sys.argv[1])\n"
        "with store.one_transaction():\n    store.add_route_event('r', 'exited', None, 'store', 't', 'ok', '')\n"
        "assert store._pending\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", script, str(db)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert _events(db) == ["exited"] and not list(folder_for(db).iterdir()) and _marks(db) == []


def test_a_file_whose_writer_died_before_naming_it_is_removed_after_a_minute(tmp_path: Path) -> None:
    assert pending.UNBORN_AFTER == 60.0
    """Bug caught: the empty files of writers killed between creating and naming their pending file piling up,
    or a file a live writer is about to name removed under it."""
    _, store, folder = _store_and_folder(tmp_path)
    old, fresh, held = folder / "old.new", folder / "fresh.new", folder / "held.new"
    for path in (old, fresh, held):
        path.write_bytes(b"")
    now = time.time()
    os.utime(fresh, (now - 30, now - 30))
    for path in (old, held):  # just past the limit
        os.utime(path, (now - pending.UNBORN_AFTER - 0.5, now - pending.UNBORN_AFTER - 0.5))
    with _locked(held):
        store.route_events("r")
        assert sorted(p.name for p in folder.iterdir()) == ["fresh.new", "held.new"]


def test_a_read_inside_a_transaction_does_not_commit_held_records_in_the_middle_of_it(tmp_path: Path, monkeypatch) -> None:
    """Bug caught: a read inside transaction() (a model registry's decision) committing held records: SQLite
    refuses a transaction within a transaction, and the registration fails."""
    db = tmp_path / "metadata.db"
    store = MetadataStore(db)
    with store.transaction():
        with store.one_transaction():  # another thread's step would be held the same way
            store.add_route_event("r", "held", None, "store", "t", "ok", "")
        assert store.route_events("r") == []  # the read runs in the transaction, which began before the hold
    assert [e["step_name"] for e in store.route_events("r")] == ["held"]


def test_a_line_the_disk_cannot_take_whole_is_cut_off_again(tmp_path: Path, monkeypatch, caplog) -> None:
    """Bug caught: a short write (a full disk, on which the database then fails too) leaving half a line that
    every later line follows: after a kill the whole rest of the file is unreadable."""
    from flowyml.errors import MetadataError

    db = tmp_path / "metadata.db"
    store = MetadataStore(db)
    for name in ("s0", "s1"):
        with store.one_transaction():
            store.add_route_event("r", name, None, "store", "t", "ok", "")
    path = store._pending_file.path
    before = path.read_bytes()
    with sqlite3.connect(db) as raw:
        raw.execute("ALTER TABLE route_events RENAME TO away")
    real_write = os.write
    monkeypatch.setattr(pending.os, "write", lambda fd, data: real_write(fd, data[: len(data) // 2]))
    with pytest.raises(MetadataError), store.one_transaction():  # held nowhere: committed at once, which fails
        store.add_route_event("r", "s2", None, "store", "t", "ok", "")
    monkeypatch.setattr(pending.os, "write", real_write)
    assert path.read_bytes() == before
    assert any(
        r.getMessage().startswith(f"step records committed at once: they could not be kept in {path} ([Errno {errno.ENOSPC}] No space")
        for r in caplog.records
    ), caplog.text
    with store.one_transaction():
        store.add_route_event("r", "s3", None, "store", "t", "ok", "")
    assert path.read_bytes().count(b"\n") == 3 and pending.read_records(path.read_bytes(), lambda name: True)[1] is None
    with sqlite3.connect(db) as raw:
        raw.execute("ALTER TABLE away RENAME TO route_events")
    store.flush()
    assert _events(db) == ["s0", "s1", "s3"]


def test_a_live_file_does_not_stop_the_take_over_of_the_dead_ones_after_it(tmp_path: Path) -> None:
    """Bug caught: the take-over stopping at the first file it cannot take (a live writer's, one another reader
    removed), leaving the dead files after it uncommitted."""
    _, store, folder = _store_and_folder(tmp_path)
    live = folder / "0000live.jsonl"
    live.write_bytes(_line(1, [list(_route_event("r", 1))]))
    (folder / "ffffdead.jsonl").write_bytes(_line(1, [list(_route_event("r", 2))]))
    with _locked(live):
        assert [e["step_name"] for e in store.route_events("r")] == ["s2"]
        assert sorted(p.name for p in folder.iterdir()) == ["0000live.jsonl"]


def test_a_file_another_reader_took_meanwhile_is_not_committed_again(tmp_path: Path, monkeypatch) -> None:
    """Bug caught: a reader that opened a dead file just before another reader committed and removed it (and a
    new file took its name) committing what it holds again."""
    _, store, folder = _store_and_folder(tmp_path)
    raced = folder / "0000raced.jsonl"
    raced.write_bytes(_line(1, [list(_route_event("r", 1))]))
    (folder / "ffffdead.jsonl").write_bytes(_line(1, [list(_route_event("r", 2))]))
    real_lock = pending._lock

    def lock_after_the_other_reader(fd: int) -> bool:
        if os.fstat(fd).st_ino == os.stat(raced).st_ino:  # the other reader takes it and a new file gets its name
            raced.unlink()
            raced.write_bytes(b"")
        return real_lock(fd)

    monkeypatch.setattr(pending, "_lock", lock_after_the_other_reader)
    assert [e["step_name"] for e in store.route_events("r")] == ["s2"]
    assert raced.exists()  # the new file is left to its own writer


def test_two_stores_on_one_database_each_hold_their_records_in_their_own_file(tmp_path: Path, monkeypatch) -> None:
    """Bug caught: the second writer of a folder failing to make it (it exists) and so committing every step at
    once, or two writers sharing one file."""
    db = tmp_path / "metadata.db"
    first, second = MetadataStore(db), MetadataStore(db)
    for store, name in ((first, "a"), (second, "b")):
        with store.one_transaction():
            store.add_route_event("r", name, None, "store", "t", "ok", "")
    assert _events(db) == [] and len(list(folder_for(db).glob("*.jsonl"))) == 2
    assert first._pending_file.path != second._pending_file.path


def test_a_pending_file_that_cannot_be_made_leaves_nothing_and_the_step_is_committed_at_once(tmp_path: Path, monkeypatch, caplog) -> None:
    """Bug caught: a failed rename leaking the file descriptor and the unnamed file, or the step's records lost."""
    db = tmp_path / "metadata.db"
    store = MetadataStore(db)

    def refuse(src: object, dst: object) -> None:
        raise PermissionError(13, "refused by the test", str(dst))

    fds = len(os.listdir("/proc/self/fd"))
    monkeypatch.setattr(pending.os, "replace", refuse)
    with caplog.at_level(logging.WARNING, "flowyml.metadata"), store.one_transaction():
        store.add_route_event("r", "s1", None, "store", "t", "ok", "")
    assert len(os.listdir("/proc/self/fd")) == fds and "refused by the test" in caplog.text
    assert _events(db) == ["s1"] and list(folder_for(db).iterdir()) == []


def test_closing_after_the_pending_file_was_removed_by_hand_still_commits(tmp_path: Path, monkeypatch) -> None:
    db = tmp_path / "metadata.db"
    store = MetadataStore(db)
    with store.one_transaction():
        store.add_route_event("r", "s1", None, "store", "t", "ok", "")
    store._pending_file.path.unlink()
    store.close()
    assert _events(db) == ["s1"] and _marks(db) == []


def test_an_unnamed_file_another_reader_removed_first_is_no_error(tmp_path: Path, monkeypatch, caplog) -> None:
    """Bug caught: two readers removing one dead writer's unnamed file, the second failing (a warning on every
    read that races another)."""
    _, store, folder = _store_and_folder(tmp_path)
    unnamed = folder / "dead.new"
    unnamed.write_bytes(b"")
    long_ago = time.time() - 3600
    os.utime(unnamed, (long_ago, long_ago))
    real_lock = pending._lock

    def lock_after_the_other_reader(fd: int) -> bool:
        unnamed.unlink()  # the other reader locked and removed it, then let go
        return real_lock(fd)

    monkeypatch.setattr(pending, "_lock", lock_after_the_other_reader)
    with caplog.at_level(logging.WARNING, "flowyml.metadata"):
        assert store.route_events("r") == []
    assert caplog.text == "" and list(folder.iterdir()) == []


def test_a_writer_killed_after_a_commit_but_before_emptying_its_file_leaves_each_record_once(tmp_path: Path, monkeypatch) -> None:
    """Bug caught: a commit that does not move the writer's mark to its last record (or moves it wrong), so the
    records it committed are committed again by whoever takes the file over."""
    db = tmp_path / "metadata.db"
    writer = MetadataStore(db)
    for name in ("s1", "s2"):
        with writer.one_transaction():
            writer.add_route_event("r", name, None, "store", "t", "ok", "")
    monkeypatch.setattr(PendingFile, "emptied", lambda self: None)  # killed right after the commit
    writer.flush()
    assert dict(sqlite3.connect(db).execute("SELECT key, value FROM meta").fetchall())[writer._pending_file.mark_key] == "2"
    with writer.one_transaction():
        writer.add_route_event("r", "s3", None, "store", "t", "ok", "")
    writer._pending_file.forget()  # the kill: its lock goes, its file stays with all three records
    monkeypatch.undo()
    assert [e["step_name"] for e in MetadataStore(db).route_events("r")] == ["s1", "s2", "s3"]
    assert _marks(db) == []


def test_a_take_over_the_database_cannot_take_keeps_the_file_and_says_why(tmp_path: Path, caplog) -> None:
    """Bug caught: a failed take-over breaking the read that triggered it, removing the file, or saying nothing."""
    db, store, folder = _store_and_folder(tmp_path)
    store.start_run("r", "p", "s", "flag", {}, None)
    dead = folder / "dead.jsonl"
    dead.write_bytes(_line(1, [list(_route_event("r", 1))]))
    with sqlite3.connect(db) as raw:
        raw.execute("ALTER TABLE route_events RENAME TO away")
    with caplog.at_level(logging.WARNING, "flowyml.metadata"):
        assert store.get_run("r")["status"] == "running"
    assert [r.getMessage() for r in caplog.records] == [
        f"could not commit the step records a stopped run left in {folder}: no such table: route_events"
    ]
    assert dead.exists()
    with sqlite3.connect(db) as raw:
        raw.execute("ALTER TABLE away RENAME TO route_events")
    assert [e["step_name"] for e in store.route_events("r")] == ["s1"] and not dead.exists()


def test_held_records_are_committed_only_once_they_have_waited(tmp_path: Path, monkeypatch) -> None:
    """Bug caught: the announcer's periodic commit taking records however young (a commit per tick, every 25 ms,
    whatever the steps), or never."""
    db = tmp_path / "metadata.db"
    store = MetadataStore(db)
    with store.one_transaction():
        store.add_route_event("r", "s1", None, "store", "t", "ok", "")
    store.flush_older_than(3600)
    assert _events(db) == []
    store.flush_older_than(0)
    assert _events(db) == ["s1"]


def test_the_exit_hook_commits_every_store_and_a_failing_one_keeps_its_file(tmp_path: Path, monkeypatch, caplog) -> None:
    """Bug caught: the exit hook stopping at the first store it cannot close, or raising at exit."""
    broken_db, good_db = tmp_path / "broken.db", tmp_path / "good.db"
    broken, good = MetadataStore(broken_db), MetadataStore(good_db)
    for store in (broken, good):
        with store.one_transaction():
            store.add_route_event("r", "s1", None, "store", "t", "ok", "")
    with sqlite3.connect(broken_db) as raw:
        raw.execute("ALTER TABLE route_events RENAME TO away")
    kept = broken._pending_file.path
    with caplog.at_level(logging.WARNING, "flowyml.metadata"):
        store_module._close_all_pending()
    assert _events(good_db) == ["s1"] and not list(folder_for(good_db).iterdir())
    (said,) = [r.getMessage() for r in caplog.records]
    assert kept.exists() and said.startswith(f"could not commit the pending step records of {broken_db} at exit: ")
    assert "no such table: route_events" in said  # and why


def test_the_fork_hook_drops_the_held_records_and_the_file_without_touching_them(tmp_path: Path, monkeypatch) -> None:
    """Bug caught: a forked child keeping its parent's held records or file (see the fork test above), checked
    on the hook itself, in this process."""
    db = tmp_path / "metadata.db"
    store = MetadataStore(db)
    with store.one_transaction():
        store.add_route_event("r", "s1", None, "store", "t", "ok", "")
    inherited = store._pending_file
    store_module._forget_in_child()
    assert store._pending == [] and store._pending_file is not inherited
    assert store._pending_file.folder == inherited.folder and inherited.path.exists() and inherited._fd is None
