"""A step's records (consumptions, artifacts and outputs, route events, its final status) are one transaction."""

from __future__ import annotations

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
    """Bug caught: one commit per record (five or more per trivial step, the bulk of the per-step cost)."""
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
        started = [unit for unit in mine if any("'running'" in sql for sql in unit)]
        assert len(started) == 1 and len(started[0]) == 1  # the running record, committed when the step starts
        rest = [unit for unit in mine if unit not in started]
        assert len(rest) == 1, f"step {name} committed its records in {len(rest)} transactions: {rest}"
        tables = " ".join(rest[0])
        assert "'completed'" in tables and "artifacts" in tables and "step_outputs" in tables and "route_events" in tables
    assert any("consumptions" in sql for unit in units for sql in unit if "'second'" in sql)
    assert [s["status"] for s in store.steps_of(run.run_id)] == ["completed", "completed"]
