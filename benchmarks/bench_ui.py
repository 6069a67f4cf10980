"""The dashboard at scale: the runs page over 10,000 runs, and the page of a 500-step pipeline (#15).

    python benchmarks/bench_ui.py [--runs 10000] [--steps 500] [--repeats 7]

Fills a fresh metadata database directly (the rows of benchmarks/bench_history.py),
adds one run of a ``--steps``-step pipeline (a chain where every step also reads
the output of the step two before it), and times whole requests through the
ASGI app in-process (Starlette's TestClient: routing, the Client's queries,
the graph layout, the template; no network), the median of ``--repeats``.
Prints each figure beside its target (runs pages under 300 ms).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_history import fill

from flowyml.metadata.store import MetadataStore

TARGET_MS = 300.0


def add_big_run(db: MetadataStore, steps: int) -> str:
    run_id = "20990101-000000-b1g500"
    t0 = 1_900_000_000.0
    step_rows, art_rows, out_rows, use_rows = [], [], [], []
    for k in range(steps):
        name = f"step_{k:04d}"
        aid = f"{k:08x}" + "cd" * 12
        step_rows.append((run_id, name, "completed", t0 + k, t0 + k + 0.5, None, None, None))
        art_rows.append((aid, run_id, name, "output", "Value", "builtins.int", f"/a/{run_id}/{name}/output", "h" * 64, 1, "json", t0 + k, "{}"))
        out_rows.append((run_id, name, "output", aid))
        for back in (1, 2):
            if k >= back:
                use_rows.append((run_id, name, f"in{back}", f"{k - back:08x}" + "cd" * 12))
    with db.transaction() as cur:
        cur.exec_driver_sql(
            "INSERT INTO runs (run_id, pipeline_name, stack_name, stack_reason, status, started_at, ended_at, params, error, target)"
            " VALUES (?,?,?,?,?,?,?,?,?,?)",
            (run_id, "big", "local", "default", "completed", t0, t0 + steps, '{"n": 1}', None, None),
        )
        cur.exec_driver_sql("INSERT INTO steps (run_id, step_name, status, started_at, ended_at, cache_key, cached_from, error) VALUES (?,?,?,?,?,?,?,?)", step_rows)
        cur.exec_driver_sql(
            "INSERT INTO artifacts (artifact_id, run_id, step_name, output_name, artifact_type, python_type, uri, content_hash, size, serializer,"
            " created_at, info) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            art_rows,
        )
        cur.exec_driver_sql("INSERT INTO step_outputs VALUES (?,?,?,?)", out_rows)
        cur.exec_driver_sql("INSERT INTO consumptions VALUES (?,?,?,?)", use_rows)
    return run_id


def timed(get: object, url: str, repeats: int) -> tuple[float, int, int]:
    times = []
    size = status = 0
    for _ in range(repeats):
        start = time.perf_counter()
        answer = get(url)  # type: ignore[operator]
        times.append((time.perf_counter() - start) * 1000)
        size, status = len(answer.content), answer.status_code
    return statistics.median(times), size, status


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    from flowyml_ui.app import create_app
    from starlette.testclient import TestClient

    root = Path(tempfile.mkdtemp(prefix="flowyml-bench-ui-"))
    db = MetadataStore.for_project(root)
    t = time.perf_counter()
    fill(db, args.runs)
    big = add_big_run(db, args.steps)
    print(f"filled {args.runs} runs + one {args.steps}-step run in {time.perf_counter() - t:.1f} s ({root})")
    web = TestClient(create_app(root))
    web.get("/")  # warm: templates compiled, modules imported
    cases = {
        f"runs page 1 ({args.runs + 1} runs)": ("/", TARGET_MS),
        "runs page 100": ("/?page=100", TARGET_MS),
        "runs page, pipeline + status filter": ("/?pipeline=train&status=failed", TARGET_MS),
        f"run page of the {args.steps}-step pipeline (graph)": (f"/runs/{big}", None),
        f"a step of the {args.steps}-step pipeline": (f"/runs/{big}/steps/step_0250", None),
    }
    print(f"{'request':<48} {'median ms':>10} {'target':>8} {'ratio':>6} {'KiB':>7}")
    for label, (url, target) in cases.items():
        ms, size, status = timed(web.get, url, args.repeats)
        assert status == 200, (url, status)
        ratio = f"{ms / target:.2f}" if target else "-"
        shown = f"{target:.0f}" if target else "-"
        print(f"{label:<48} {ms:>10.1f} {shown:>8} {ratio:>6} {size / 1024:>7.0f}")
    page = web.get(f"/runs/{big}").text
    nodes, edges = page.count('class="node '), page.count('class="edge"')
    print(f"the {args.steps}-step graph: {nodes} nodes, {edges} edges drawn")


if __name__ == "__main__":
    main()
