"""Core benchmarks: import time, per-step overhead, a large DataFrame between two steps, cached re-runs.

    python benchmarks/bench_core.py [--quick]

Prints each figure beside its target. Run on an otherwise idle machine; the
figures in docs/performance.md come from this script.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def bench_import(repeats: int) -> tuple[float, float]:
    """Median wall time of `python -c pass` and of `python -c 'import flowyml'` (fresh interpreters)."""

    # PYTHONDONTWRITEBYTECODE=1 (set on some machines and CI images) would make every child compile
    # flowyml from source: an import a user with a normal environment never pays.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def median(code: str) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, env=env)
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    median("import flowyml")  # warm the bytecode cache
    return median("pass"), median("import flowyml")


def bench_steps(n_steps: int, project: Path) -> tuple[float, float, float]:
    """Seconds per trivial step through the engine (wall, then this process's CPU) vs calling the functions directly."""
    from flowyml import pipeline, step

    @step(cache=False)
    def inc(x: int) -> int:
        return x + 1

    @pipeline
    def chain() -> None:
        value = inc(0)
        for _ in range(n_steps - 1):
            value = inc(value)

    os.chdir(project)
    chain.run()  # warm-up: plugin loading, metadata store creation
    start, cpu = time.perf_counter(), time.process_time()
    run = chain.run()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert run.success and run.load(list(run.steps)[-1]) == n_steps
    start = time.perf_counter()
    value = 0
    for _ in range(n_steps):
        value = inc.fn(value)
    direct = time.perf_counter() - start
    return elapsed / n_steps, cpu / n_steps, direct / n_steps


def bench_disk_floor(n_steps: int, folder: Path) -> float:
    """Seconds per step of what a step must make durable, done with the standard library alone on the same disk.

    One folder (the step's key), one small file renamed into it (the packed
    artifact), one line appended to an open file (the step's records in the
    metadata store's pending file) and, every 100 steps, one SQLite WAL commit
    of their rows (synchronous=NORMAL, as the metadata store): the floor under
    the per-step figure on this disk.
    """
    import sqlite3

    folder.mkdir()
    db = sqlite3.connect(folder / "floor.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, run TEXT, step TEXT, status TEXT, at REAL)")
    payload = b"x" * 600
    journal = os.open(folder / "pending.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    held: list[tuple[str, str, str, float]] = []
    start = time.perf_counter()
    for i in range(n_steps):
        step_dir = folder / f"step_{i}"
        step_dir.mkdir()
        tmp = folder / ".packed"
        tmp.write_bytes(payload)
        os.replace(tmp, step_dir / "output")
        held.append(("run", f"step_{i}", "completed", time.time()))
        os.write(journal, repr(held[-1]).encode() + b"\n")
        if len(held) == 100 or i == n_steps - 1:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT INTO t (run, step, status, at) VALUES (?, ?, ?, ?)", held)
            db.execute("COMMIT")
            os.ftruncate(journal, 0)
            held.clear()
    elapsed = time.perf_counter() - start
    os.close(journal)
    db.close()
    return elapsed / n_steps


class PeakRSS:
    """Samples the process's resident memory every 5 ms."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def rss() -> int:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            time.sleep(0.005)

    def __enter__(self) -> PeakRSS:
        self.peak = self.rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def bench_dataframe(rows: int, project: Path, repeats: int) -> dict[str, float]:
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from flowyml import pipeline, step

    frame = pd.DataFrame(np.random.default_rng(0).random((rows, 10)), columns=[f"c{i}" for i in range(10)])
    frame_bytes = frame.memory_usage(index=True, deep=True).sum()

    def raw_roundtrip() -> None:
        path = project / "raw.parquet"
        pq.write_table(pa.Table.from_pandas(frame), path)
        back = pq.read_table(path).to_pandas()
        assert back.shape == frame.shape
        path.unlink()

    @step(cache=False)
    def produce() -> pd.DataFrame:
        return frame

    @step(cache=False)
    def consume(df: pd.DataFrame) -> int:
        return len(df)

    @pipeline
    def handoff() -> None:
        consume(produce())

    os.chdir(project)
    handoff.run()
    raw_times, flow_times, reload_times = [], [], []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        raw_roundtrip()
        raw_times.append(time.perf_counter() - start)
        gc.collect()
        start = time.perf_counter()
        run = handoff.run()
        flow_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        assert len(run.artifact("produce").load()) == rows  # a reader in another process would pay this
        reload_times.append(time.perf_counter() - start)
    gc.collect()
    with PeakRSS() as mem:
        base = mem.peak
        handoff.run()
    return {
        "raw": statistics.median(raw_times),
        "flowyml": statistics.median(flow_times),
        "reload": statistics.median(reload_times),
        "frame_mb": frame_bytes / 1e6,
        "extra_peak_mb": (mem.peak - base) / 1e6,
    }


def bench_cached_rerun(rows: int, project: Path, repeats: int) -> float:
    """Median seconds of a fully cached re-run of produce -> consume with a ``rows`` x 10 frame."""
    import numpy as np
    import pandas as pd

    from flowyml import pipeline, step

    frame = pd.DataFrame(np.random.default_rng(0).random((rows, 10)), columns=[f"c{i}" for i in range(10)])

    @step(name=f"produce_{rows}")  # names of their own: one frame's cached result is not the other's
    def produce() -> pd.DataFrame:
        return frame

    @step(name=f"consume_{rows}")
    def consume(df: pd.DataFrame) -> int:
        return len(df)

    @pipeline(name=f"cached_{rows}")
    def cached() -> None:
        consume(produce())

    os.chdir(project)
    first = cached.run()
    assert first.success and len(first.artifact(f"produce_{rows}").load()) == rows
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        run = cached.run()
        times.append(time.perf_counter() - start)
        assert [s.status for s in run.steps.values()] == ["cached", "cached"] and run.load(f"consume_{rows}") == rows
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    args = parser.parse_args()
    repeats = 3 if args.quick else 7
    print(f"load average: {os.getloadavg()[0]:.1f} (figures on a busy machine are upper bounds)")
    bare, with_flowyml = bench_import(repeats * 2)
    print(f"import flowyml: +{(with_flowyml - bare) * 1000:.1f} ms over a bare interpreter ({bare * 1000:.1f} ms)   target <= 50 ms")
    with tempfile.TemporaryDirectory() as tmp:
        n_steps = 50 if args.quick else 1000
        per_step, cpu, direct = bench_steps(n_steps, Path(tmp))
        print(
            f"trivial step ({n_steps}-step linear pipeline, SQLite): {per_step * 1000:.2f} ms of framework overhead per step "
            f"(function itself {direct * 1e6:.1f} us) = {per_step / 0.0005:.1f}x the 0.5 ms target; "
            f"CPU {cpu * 1000:.2f} ms per step (less sensitive to other work on the machine)"
        )
        floor = bench_disk_floor(n_steps, Path(tmp) / "floor")
        print(
            f"  this disk's own cost of what a step makes durable (a folder, a file renamed into it, a line appended, "
            f"a WAL commit per 100 steps), "
            f"standard library alone: {floor * 1000:.2f} ms per step; framework overhead above it {(per_step - floor) * 1000:.2f} ms"
        )
    with tempfile.TemporaryDirectory() as tmp:
        rows = 100_000 if args.quick else 1_000_000
        got = bench_dataframe(rows, Path(tmp), repeats)
        print(
            f"{rows:,} x 10 float64 DataFrame between two steps: {got['flowyml']:.3f} s vs raw pyarrow write+read "
            f"{got['raw']:.3f} s = {got['flowyml'] / got['raw']:.2f}x   target <= 1.15x"
        )
        print(f"  reading it back from the store (another process would): {got['reload']:.3f} s")
        print(f"  peak memory above the frame: {got['extra_peak_mb']:.0f} MB for a {got['frame_mb']:.0f} MB frame   target <= 1 copy")
    with tempfile.TemporaryDirectory() as tmp:
        rows = 100_000 if args.quick else 1_000_000
        small = bench_cached_rerun(1, Path(tmp), repeats)
        large = bench_cached_rerun(rows, Path(tmp), repeats)
        print(
            f"fully cached re-run, {rows:,} x 10 frame: {large * 1000:.1f} ms vs 1-row frame {small * 1000:.1f} ms "
            f"= {large / small:.2f}x   target <= 1.5x"
        )


if __name__ == "__main__":
    main()
