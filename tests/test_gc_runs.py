"""`flowyml gc --keep-last/--older-than`: old runs go like `runs delete`, never what is still used or running."""

from __future__ import annotations

import time
from pathlib import Path

from click.testing import CliRunner

from flowyml import Client, Dataset, Metrics, pipeline, step
from flowyml.cli.main import cli


@step
def rows(n: int = 3) -> Dataset:
    return Dataset({"x": list(range(n))})


@step
def measure(data: Dataset, n: int = 3) -> Metrics:
    return Metrics({"n": n, "total": sum(data.data["x"])})


@pipeline
def counting(n: int = 3) -> None:
    measure(rows(n), n)


@step
def other_step() -> int:
    return 7


@pipeline
def other() -> None:
    other_step()


def gc(*args: str, ok: bool = True) -> str:
    done = CliRunner().invoke(cli, ["gc", *args], catch_exceptions=False)
    assert (done.exit_code == 0) is ok, done.output
    return done.output


def test_keep_last_per_pipeline_with_dry_run_then_for_real(project) -> None:
    oldest, middle, newest = counting.run(n=1), counting.run(n=2), counting.run(n=3)
    lone = other.run()
    dry = gc("--keep-last", "1", "--artifacts", "--dry-run")
    assert f"Would delete 2 run record(s): {middle.run_id}, {oldest.run_id}" in dry
    assert len(Client().list_runs()) == 4
    out = gc("--keep-last", "1", "--artifacts")
    assert "Deleted 2 run(s)" in out
    assert {r.run_id for r in Client().list_runs()} == {newest.run_id, lone.run_id}
    assert not Path(oldest.steps["measure"].output.uri).exists() and Path(newest.steps["measure"].output.uri).exists()


def test_older_than_and_pipeline_narrow_the_selection(project) -> None:
    first = counting.run(n=1)
    kept_other = other.run()
    db = Client().metadata
    week_ago = time.time() - 8 * 86400
    for run_id in (first.run_id, kept_other.run_id):
        db.execute("UPDATE runs SET started_at=? WHERE run_id=?", (week_ago, run_id))
    recent = counting.run(n=2)
    out = gc("--older-than", "7", "--pipeline", "counting")
    assert f"Deleting 1 run record(s): {first.run_id}" in out
    assert {r.run_id for r in Client().list_runs()} == {kept_other.run_id, recent.run_id}
    assert "runs: none selected" in gc("--older-than", "30")


def test_selection_options_need_a_rule(project) -> None:
    assert "only with --keep-last or --older-than" in CliRunner().invoke(cli, ["gc", "--artifacts"]).output
