"""History at scale: every listing and lookup of past runs over 100,000 runs (#16 item 4).

    python benchmarks/bench_history.py [--runs 100000] [--repeats 7] [--quick]

Fills a fresh metadata database directly (no pipeline runs): ``--runs`` runs of
three pipelines, each with 3 steps, 3 artifacts, their step outputs, 2
consumptions, 2 route events and 2 tracker metrics, one run in ten failed.
Then times each query the ``runs``/``artifacts`` commands and
:class:`flowyml.Client` make (the median of ``--repeats`` calls of the real
read functions, rows fetched), with the store's indexes and again with them
dropped, and prints both beside the target (under 20 ms each). ``--quick``
uses 10,000 runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flowyml.metadata import queries
from flowyml.metadata.schema import tables_for
from flowyml.metadata.store import MetadataStore

TARGET_MS = 20.0
PIPELINES = ("train", "evaluate", "ingest")
STEPS = ("load", "fit", "score")


def fill(db: MetadataStore, runs: int) -> list[str]:
    """Insert ``runs`` runs with their steps, artifacts, lineage, route events and metrics; their ids, oldest first."""
    t0 = 1_700_000_000.0
    ids = [f"{time.strftime('%Y%m%d-%H%M%S', time.gmtime(t0 + i * 60))}-{i:06x}" for i in range(runs)]
    run_rows, step_rows, art_rows, out_rows, use_rows, event_rows, metric_rows = [], [], [], [], [], [], []
    for i, rid in enumerate(ids):
        start = t0 + i * 60
        status = "failed" if i % 10 == 7 else "completed"
        run_rows.append((rid, PIPELINES[i % 3], "local", "default", status, start, start + 30, "{}", None, None))
        previous = None
        for k, name in enumerate(STEPS):
            aid = f"{i:08x}{k:02x}" + "ab" * 11
            step_rows.append((rid, name, "completed", start + k, start + k + 1, f"key-{i}-{k}", None, None))
            art_rows.append((aid, rid, name, "output", "Value", "builtins.int", f"/a/{rid}/{name}/output", "h" * 64, 1, "json", start + k + 1, "{}"))
            out_rows.append((rid, name, "output", aid))
            if previous is not None:
                use_rows.append((rid, name, "values", previous))
            previous = aid
        event_rows += [(rid, "score", previous, "route", "local", "done", "", start + 5)] * 2
        metric_rows += [(rid, "score", "accuracy", 0.5, 0, None, start + 5), (rid, "score", "loss", 0.1, 0, None, start + 5)]
    with db.transaction() as cur:
        cur.exec_driver_sql("INSERT INTO runs (run_id, pipeline_name, stack_name, stack_reason, status, started_at, ended_at, params, error, target)"
                        " VALUES (?,?,?,?,?,?,?,?,?,?)", run_rows)
        cur.exec_driver_sql("INSERT INTO steps (run_id, step_name, status, started_at, ended_at, cache_key, cached_from, error)"
                        " VALUES (?,?,?,?,?,?,?,?)", step_rows)
        cur.exec_driver_sql("INSERT INTO artifacts (artifact_id, run_id, step_name, output_name, artifact_type, python_type, uri,"
                        " content_hash, size, serializer, created_at, info) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", art_rows)
        cur.exec_driver_sql("INSERT INTO step_outputs VALUES (?,?,?,?)", out_rows)
        cur.exec_driver_sql("INSERT INTO consumptions VALUES (?,?,?,?)", use_rows)
        cur.exec_driver_sql("INSERT INTO route_events (run_id, step_name, artifact_id, action, target, status, detail, created_at)"
                        " VALUES (?,?,?,?,?,?,?,?)", event_rows)
        cur.exec_driver_sql("INSERT INTO tracker_metrics VALUES (?,?,?,?,?,?,?)", metric_rows)
    return ids


def lookups(db: MetadataStore, ids: list[str]) -> dict[str, Callable[[], Any]]:
    """Each listing/lookup of the CLI and the Client, as a call of the function that issues its SQL."""
    middle = ids[len(ids) // 2]
    art = f"{len(ids) // 2:08x}01" + "ab" * 11
    return {
        "runs list (newest 20)": lambda: queries.list_run_rows(db, limit=20),
        "runs list --pipeline": lambda: queries.list_run_rows(db, pipeline="evaluate", limit=20),
        "runs list --status failed": lambda: queries.list_run_rows(db, status="failed", limit=20),
        "runs list --pipeline --status": lambda: queries.list_run_rows(db, pipeline="train", status="failed", limit=20),
        "get_run latest": lambda: queries.resolve_run_id(db, "latest"),
        "get_run latest of a pipeline": lambda: queries.resolve_run_id(db, "latest", "ingest"),
        "get_run by full id": lambda: queries.run_row(db, queries.resolve_run_id(db, middle)),
        "get_run by prefix": lambda: queries.resolve_run_id(db, middle[:-1]),
        "store.get_run by prefix": lambda: db.get_run(middle[:-1]),
        "pipeline names": lambda: queries.pipeline_names(db),
        "runs show: steps": lambda: queries.step_rows(db, middle),
        "runs show: outputs": lambda: queries.outputs_of(db, middle),
        "runs show: route events": lambda: queries.route_event_rows(db, middle),
        "runs show: tracker metrics": lambda: db.query("SELECT * FROM tracker_metrics WHERE run_id=? ORDER BY rowid", (middle,)),
        "runs show: tracker params": lambda: db.query("SELECT * FROM tracker_params WHERE run_id=? ORDER BY rowid", (middle,)),
        "artifacts list (newest 50)": lambda: db.query("SELECT * FROM artifacts ORDER BY created_at DESC LIMIT ?", (50,)),
        "store.list_artifacts (joined)": lambda: db.list_artifacts(limit=100),
        "artifact by prefix": lambda: queries.resolve_artifact_id(db, art[:12]),
        "step inputs": lambda: queries.inputs_of(db, middle, "score"),
        "lineage: consumers": lambda: queries.consumer_rows(db, art),
        "lineage: runs using": lambda: queries.runs_using_artifact(db, art),
    }


def median_ms(call: Callable[[], Any], repeats: int) -> float:
    call()  # warm the page cache and the statement cache
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="10,000 runs")
    args = parser.parse_args()
    runs = 10_000 if args.quick else args.runs
    with tempfile.TemporaryDirectory() as tmp:
        db = MetadataStore(Path(tmp) / "metadata.db")
        start = time.perf_counter()
        ids = fill(db, runs)
        filled = time.perf_counter() - start
        rows = sum(db.query(f"SELECT COUNT(*) AS n FROM {t}")[0]["n"] for t in ("runs", "steps", "artifacts", "step_outputs", "consumptions", "route_events", "tracker_metrics"))
        print(f"{runs:,} runs ({rows:,} rows) inserted in {filled:.1f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        calls = lookups(db, ids)
        indexed = {name: median_ms(call, args.repeats) for name, call in calls.items()}
        for name in [index.name for index in tables_for("sqlite").indexes]:
            db.execute(f"DROP INDEX {name}")
        bare = {name: median_ms(call, max(3, args.repeats // 2)) for name, call in calls.items()}
    width = max(map(len, calls))
    print(f"\n{'query':<{width}}  {'indexed ms':>10}  {'no index ms':>11}  target < {TARGET_MS:.0f} ms")
    for name in calls:
        verdict = "ok" if indexed[name] < TARGET_MS else "SLOW"
        print(f"{name:<{width}}  {indexed[name]:>10.2f}  {bare[name]:>11.2f}  {verdict}")
    worst = max(indexed.values())
    print(f"\nslowest indexed query: {worst:.2f} ms ({worst / TARGET_MS:.2f}x the target)")
    return 0 if worst < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
