"""The metadata database engines side by side: PostgreSQL vs the embedded SQLite (#14).

    python benchmarks/bench_metadata_engines.py [--runs 10000] [--repeats 5] [--quick]

Starts a throwaway PostgreSQL cluster (tests/standins/postgres.py: Debian's ``postgresql``
server on 127.0.0.1, a free port, stopped at the end) and makes two projects, one on the
embedded ``.flowyml/metadata.db``, one with ``metadata.url`` naming a database in that cluster.
In each, measured in this one run:

- **run overhead**: a 20-step pipeline of trivial steps (``cache=False``) through
  ``pipeline.run()``, on an empty history and again at ``--runs`` runs;
- **listing at ``--runs`` runs**: ``flowyml runs list`` (the real command, a new interpreter each
  time), and ``Client().list_runs()`` in-process (newest 50, rows only and with
  their steps; of one pipeline; of one status).

The history is seeded in bulk through the store's own tables (``store.t``, one transaction, one
multi-row insert per table), like ``bench_history.py``: each run with 3 steps, 3 artifacts, their
step outputs, 2 consumptions, 2 route events and 2 tracker metrics, one run in ten failed.

Each figure is the median of ``--repeats`` calls, the two engines taking turns (so that the load
of a shared machine weighs on both alike). Prints every figure and the PostgreSQL/SQLite ratio. The server runs with ``fsync=off`` (a test
cluster), so PostgreSQL's figures leave out the disk flush a production server pays per commit.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the PostgreSQL stand-in

FLOWYML = Path(sys.executable).with_name("flowyml")
PIPELINES = ("train", "evaluate", "ingest")
STEPS = ("load", "fit", "score")
N_STEPS = 20

CONFIG = """\
stacks:
  local:
    orchestrator: { type: local }
    artifact_store: { type: local, path: "./artifacts" }
active_stack: local
"""

PIPELINE = f"""\
from flowyml import pipeline, step


@step(cache=False)
def inc(x: int) -> int:
    return x + 1


@pipeline
def chain() -> None:
    value = inc(0)
    for _ in range({N_STEPS - 1}):
        value = inc(value)
"""


def make_project(folder: Path, metadata_url: str | None) -> Path:
    folder.mkdir(parents=True)
    config = CONFIG + (f'metadata:\n  url: "{metadata_url}"\n' if metadata_url else "")
    (folder / "flowyml.yaml").write_text(config, encoding="utf-8")
    (folder / "chain_pipeline.py").write_text(PIPELINE, encoding="utf-8")
    return folder


def load_chain(project: Path) -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"chain_{project.name}", project / "chain_pipeline.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.chain


def paired(calls: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """Median seconds of each engine's call, the engines taking turns (A B A B ...) so that a change
    of the machine's load during the measurement weighs on both alike."""
    for call in calls.values():
        call()  # warm: plugin loading, connections, statement caches
    times: dict[str, list[float]] = {engine: [] for engine in calls}
    for _ in range(repeats):
        for engine, call in calls.items():
            start = time.perf_counter()
            call()
            times[engine].append(time.perf_counter() - start)
    return {engine: statistics.median(t) for engine, t in times.items()}


def chain_run(project: Path) -> Callable[[], None]:
    """One run of the 20-step chain in ``project``."""
    chain = load_chain(project)

    def once() -> None:
        os.chdir(project)
        run = chain.run(progress=False)
        assert run.success and run.load(list(run.steps)[-1]) == N_STEPS, run.error

    return once


def seed(project: Path, runs: int) -> float:
    """Insert ``runs`` runs with their records into ``project``'s database; seconds it took."""
    from flowyml.client import Client

    store = Client(project).metadata
    t = store.t
    t0 = 1_700_000_000.0
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in
                                             ("runs", "steps", "artifacts", "step_outputs", "consumptions", "route_events", "tracker_metrics")}
    for i in range(runs):
        rid = f"{time.strftime('%Y%m%d-%H%M%S', time.gmtime(t0 + i * 60))}-{i:06x}"
        start = t0 + i * 60
        status = "failed" if i % 10 == 7 else "completed"
        rows["runs"].append({
            "run_id": rid, "pipeline_name": PIPELINES[i % 3], "stack_name": "local", "stack_reason": "default",
            "status": status, "started_at": start, "ended_at": start + 30, "params": "{}", "error": None, "target": None,
            "user": "bench", "host": "bench-host",
        })
        previous = None
        for k, name in enumerate(STEPS):
            aid = f"{i:08x}{k:02x}" + "ab" * 11
            rows["steps"].append({"run_id": rid, "step_name": name, "status": "completed", "started_at": start + k,
                                  "ended_at": start + k + 1, "cache_key": f"key-{i}-{k}", "cached_from": None, "error": None})
            rows["artifacts"].append({"artifact_id": aid, "run_id": rid, "step_name": name, "output_name": "output",
                                      "artifact_type": "Value", "python_type": "builtins.int", "uri": f"/a/{rid}/{name}/output",
                                      "content_hash": "h" * 64, "size": 1, "serializer": "json", "created_at": start + k + 1, "info": "{}"})
            rows["step_outputs"].append({"run_id": rid, "step_name": name, "output_name": "output", "artifact_id": aid})
            if previous is not None:
                rows["consumptions"].append({"run_id": rid, "step_name": name, "input_name": "values", "artifact_id": previous})
            previous = aid
        for _ in range(2):
            rows["route_events"].append({"run_id": rid, "step_name": "score", "artifact_id": previous, "action": "route",
                                         "target": "local", "status": "ok", "detail": "", "created_at": start + 5})
        for key, value in (("accuracy", 0.5), ("loss", 0.1)):
            rows["tracker_metrics"].append({"run_id": rid, "step_name": "score", "key": key, "value": value, "step": 0,
                                            "metadata": None, "logged_at": start + 5})
    started = time.perf_counter()
    with store.transaction() as conn:
        for name, table_rows in rows.items():
            conn.execute(getattr(t, name).insert(), table_rows)
    return time.perf_counter() - started


def listings(project: Path) -> dict[str, Callable[[], None]]:
    """Each listing of past runs in ``project``, as a call."""
    from flowyml.client import Client

    client = Client(project)

    def cli(*args: str) -> Callable[[], None]:
        def call() -> None:
            done = subprocess.run([str(FLOWYML), "runs", "list", *args], cwd=project, capture_output=True, text=True)
            assert done.returncode == 0, done.stdout + done.stderr

        return call

    def api(expected: int, **kw: Any) -> Callable[[], None]:
        def call() -> None:
            assert len(client.list_runs(**kw)) == expected

        return call

    return {
        "flowyml runs list (newest 20)": cli(),
        "flowyml runs list --pipeline train --status failed": cli("--pipeline", "train", "--status", "failed"),
        "Client.list_runs(steps=False), newest 50": api(50, steps=False),
        "Client.list_runs(pipeline=, status=, steps=False), 20": api(20, pipeline="ingest", status="failed", limit=20, steps=False),
        "Client.list_runs(), newest 50 with their steps": api(50),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="1,000 runs, 3 repeats")
    args = parser.parse_args()
    runs, repeats = (1_000, 3) if args.quick else (args.runs, args.repeats)

    from standins.postgres import start_postgres_cluster

    cluster = start_postgres_cluster()
    here = os.getcwd()
    try:
        database = cluster.create_database("bench")
        with tempfile.TemporaryDirectory() as tmp:
            projects = {
                "SQLite": make_project(Path(tmp) / "sqlite", None),
                "PostgreSQL": make_project(Path(tmp) / "postgres", database.url),
            }
            figures: dict[str, dict[str, float]] = {engine: {} for engine in projects}

            def record(name: str, got: dict[str, float]) -> None:
                for engine, seconds in got.items():
                    figures[engine][name] = seconds

            record(f"{N_STEPS}-step run, empty history", paired({e: chain_run(p) for e, p in projects.items()}, repeats))
            record(f"seeding {runs:,} runs (one transaction)", {e: seed(p, runs) for e, p in projects.items()})
            record(f"{N_STEPS}-step run, at {runs:,} runs", paired({e: chain_run(p) for e, p in projects.items()}, repeats))
            calls = {e: listings(p) for e, p in projects.items()}
            for name in calls["SQLite"]:
                record(name, paired({e: calls[e][name] for e in projects}, repeats))
            os.chdir(here)
    finally:
        os.chdir(here)
        cluster.stop()

    names = list(figures["SQLite"])
    width = max(map(len, names))
    load = os.getloadavg()[0]
    print(f"PostgreSQL {cluster.bin_dir.parent.name} (local, fsync off) vs SQLite; load average {load:.1f} on {os.cpu_count()} cores")
    print(f"{'':<{width}}  {'SQLite ms':>10}  {'PostgreSQL ms':>13}  {'PG / SQLite':>11}")
    for name in names:
        lite, pg = figures["SQLite"][name] * 1000, figures["PostgreSQL"][name] * 1000
        print(f"{name:<{width}}  {lite:>10.1f}  {pg:>13.1f}  {pg / lite:>10.2f}x")
    per_step = {e: figures[e][f"{N_STEPS}-step run, at {runs:,} runs"] / N_STEPS * 1000 for e in figures}
    print(f"\nper step at {runs:,} runs: SQLite {per_step['SQLite']:.2f} ms, PostgreSQL {per_step['PostgreSQL']:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
