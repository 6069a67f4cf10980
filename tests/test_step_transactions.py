"""A step's records (consumptions, artifacts and outputs, route events, its final status) are one transaction."""

from __future__ import annotations

from typing import Any

from flowyml import pipeline, step
from flowyml.metadata.store import MetadataStore


@step(cache=False)
def first() -> int:
    return 1


@step(cache=False)
def second(value: int) -> int:
    return value + 1


@pipeline
def two_steps() -> None:
    second(first())


def _write_units(statements: list[str]) -> list[list[str]]:
    """The writes as committed: each BEGIN ... COMMIT block is one unit, a write outside one is a unit of its own."""
    units: list[list[str]] = []
    block: list[str] | None = None
    for sql in statements:
        word = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
        if word == "BEGIN":
            block = []
        elif word in ("COMMIT", "END"):
            if block:
                units.append(block)
            block = None
        elif word in ("INSERT", "UPDATE", "DELETE", "REPLACE"):
            if block is None:
                units.append([sql])
            else:
                block.append(sql)
    return units


def test_each_step_commits_its_records_once(project) -> None:
    """Bug caught: one commit per record (five or more per trivial step, the bulk of the per-step cost), or a
    separate `running` commit when each step starts (two per step)."""
    two_steps.run()  # creates the database
    store = MetadataStore.for_project(project.path)
    seen: list[str] = []
    store._conn.set_trace_callback(seen.append)
    try:
        run = two_steps.run()
    finally:
        store._conn.set_trace_callback(None)
    assert run.success, run.error
    units = _write_units(seen)
    for name in ("first", "second"):
        mine = [unit for unit in units if any(f"'{name}'" in sql for sql in unit)]
        assert len(mine) == 1, f"step {name} committed its records in {len(mine)} transactions: {mine}"
        tables = " ".join(mine[0])
        assert "'completed'" in tables and "artifacts" in tables and "step_outputs" in tables and "route_events" in tables
        assert "'running'" not in tables  # a trivial step ends before it is announced
    assert any("consumptions" in sql for unit in units for sql in unit if "'second'" in sql)
    assert [s["status"] for s in store.steps_of(run.run_id)] == ["completed", "completed"]


@step(cache=False)
def slow_step(started: str, release: str) -> int:
    import time
    from pathlib import Path

    Path(started).touch()
    deadline = time.monotonic() + 60
    while not Path(release).exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return 1


@pipeline
def one_slow_step(started: str, release: str) -> None:
    slow_step(started, release)


def test_a_step_still_running_after_a_moment_is_shown_running(project, tmp_path) -> None:
    """Bug caught: steps written only when they end, so a live run (or one killed in a long step) never says
    which step it is in."""
    import threading
    import time

    started, release = tmp_path / "started", tmp_path / "release"
    release.touch()  # the first run, which creates the database, does not wait
    one_slow_step.run(started=str(started), release=str(release))  # creates the database
    started.unlink()
    release.unlink()
    runs: list = []
    thread = threading.Thread(target=lambda: runs.append(one_slow_step.run(started=str(started), release=str(release))))
    thread.start()
    try:
        reader = MetadataStore(project.path / ".flowyml" / "metadata.db")  # another connection, as `runs show` has
        deadline = time.monotonic() + 30
        seen: list = []
        while time.monotonic() < deadline:
            live = [r for r in reader.list_runs(limit=1) if r["status"] == "running"]
            seen = reader.steps_of(live[0]["run_id"]) if live else []
            if seen:
                break
            time.sleep(0.02)
        assert [(s["step_name"], s["status"]) for s in seen] == [("slow_step", "running")]
        assert seen[0]["started_at"] is not None
    finally:
        release.touch()
        thread.join(timeout=60)
    assert runs and runs[0].success, runs and runs[0].error
    final = reader.steps_of(runs[0].run_id)
    assert [(s["step_name"], s["status"]) for s in final] == [("slow_step", "completed")]
    assert final[0]["started_at"] == seen[0]["started_at"]  # one start time, written once by either write


def test_a_late_announcement_never_overwrites_a_step_outcome(project) -> None:
    """Bug caught: the `running` announcement written as an upsert, so one that lands after the step's own
    commit turns a completed step back into a running one."""
    store = MetadataStore(project.path / ".flowyml" / "metadata.db")
    store.start_run("r1", "p", "local", "default", {}, None)
    store.record_step("r1", "fit", "completed", started_at=10.0, ended_at=11.0, cache_key="k")
    store.announce_step("r1", "fit", 10.0)
    assert [(s["status"], s["ended_at"], s["cache_key"]) for s in store.steps_of("r1")] == [("completed", 11.0, "k")]
    store.announce_step("r1", "eval", 12.0)  # no row yet: the announcement is the row
    store.record_step("r1", "eval", "failed", started_at=12.0, ended_at=13.0, error="boom")
    assert [(s["step_name"], s["status"], s["started_at"]) for s in store.steps_of("r1")][1] == ("eval", "failed", 12.0)


@step(cache=False)
def inc(value: int) -> int:
    return value + 1


def chain_of(steps: int) -> Any:
    """A linear pipeline of ``steps`` trivial steps."""

    @pipeline
    def chain() -> None:
        value = inc(0)
        for _ in range(steps - 1):
            value = inc(value)

    return chain


def test_a_long_run_checkpoints_less_often_yet_keeps_the_wal_bounded(project) -> None:
    """Bug caught: SQLite's default checkpoint every 1,000 WAL pages (one sync of both files every ~50 trivial
    steps, the largest wall cost per step on a real disk), or no checkpoint during the run (the WAL grows
    with every step: 400 trivial steps write about 7,000 pages)."""
    from flowyml.metadata.store import WAL_CHECKPOINT_PAGES

    chain = chain_of(400)

    two_steps.run()
    store = MetadataStore.for_project(project.path)
    assert store._conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == WAL_CHECKPOINT_PAGES > 1000
    page = store._conn.execute("PRAGMA page_size").fetchone()[0]
    wal = store.path.with_name(store.path.name + "-wal")
    assert chain.run().success
    frames = wal.stat().st_size // (page + 24)  # the WAL file keeps the largest size it reached
    assert frames <= WAL_CHECKPOINT_PAGES + 200, f"the WAL reached {frames} pages"


def test_a_long_chain_commits_its_steps_in_batches_and_leaves_nothing_pending(project, monkeypatch) -> None:
    """Bug caught: a commit per step on SQLite (about 18 WAL pages each: most of a trivial step's cost on a
    real disk), a batch that splits a step's rows, or a run that ends with records still held or its pending
    file not emptied."""
    from flowyml.metadata import pending
    from flowyml.metadata.announcer import StepAnnouncer
    from flowyml.metadata.pending import folder_for

    monkeypatch.setattr(pending, "FLUSH_AFTER", 3600.0)  # the batch size alone decides
    monkeypatch.setattr(StepAnnouncer, "started", lambda self, step, at: None)  # a step slowed past 50 ms commits too

    chain = chain_of(150)

    two_steps.run()
    store = MetadataStore.for_project(project.path)
    seen: list[str] = []
    store._conn.set_trace_callback(seen.append)
    try:
        run = chain.run()
    finally:
        store._conn.set_trace_callback(None)
    assert run.success, run.error
    units = [unit for unit in _write_units(seen) if any("INSERT INTO steps" in sql for sql in unit)]
    assert len(units) == 2, f"150 steps committed in {len(units)} transactions"  # 100 held at most, then the run's end
    assert sum("INSERT INTO steps" in sql for sql in units[0]) == 100
    for unit in units:
        named = [sql for sql in unit if "INSERT INTO steps" in sql]
        for sql in named:  # each step's own rows are in the unit that has its row
            step_name = sql.split("'")[3]
            assert sum(f"'{step_name}'" in s for s in unit) >= 3, sql
    assert len(store.steps_of(run.run_id)) == 150
    files = list(folder_for(store.path).iterdir())
    assert files and all(f.stat().st_size == 0 for f in files), [(f.name, f.stat().st_size) for f in files]
