"""A numpy array and a bytes value handed between two steps, against a plain write to the same disk (#16 item 2).

    python benchmarks/bench_arrays.py [--repeats 5] [--quick]

The producing step returns a prebuilt 1 GiB float64 array (then a 500 MB
``bytes`` value); the consuming step takes it in memory; the artifact is
written once, its hash (BLAKE3, see flowyml.serialization.digests) computed
while writing. The baseline, measured in the same run and alternated with it,
is ``np.save`` of the same array (a raw ``open().write()`` of the bytes) into
the same project folder. ``np.save`` reserves the file's blocks before it
writes (``fallocate``), as FlowyML's ``write_buffer`` does; the raw write of
the bytes does not, which is why FlowyML can take less time than it. Prints the median and the best times, their ratios
(target <= 1.15x), the CPU split into user and system time, and the peak
memory above the value during a run (target <= +64 MB). ``--quick`` uses
128 MiB / 64 MB.

On a virtual machine the kernel's time to take page-cache pages varies
several-fold from one write to the next (a plain 1 GiB write: 0.38-2.35 s of
system time here, same code, same file): memory the guest freed a few seconds
ago may have been handed back to the host, and touching it again then faults
on the host. ``--settle S`` waits S seconds (not timed) after each timed call
and its clean-up, so that every timed write starts from that state (both
sides then pay the host's faults); by default the calls alternate at once.
The baseline writes ``raw.npy``: ``np.save`` appends ``.npy`` to any other
name (before this was known, the baseline's file was never deleted between
calls and every baseline overwrote it, a cheaper path for the kernel).
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from bench_core import PeakRSS


def measure(value: Any, raw_write: Callable[[Path], None], project: Path, repeats: int, *, settle: float = 0.0) -> dict[str, float]:
    from flowyml import pipeline, step

    @step(cache=False)
    def produce() -> Any:
        return value

    @step(cache=False)
    def consume(v: Any) -> int:
        return len(v)

    @pipeline
    def handoff() -> None:
        consume(produce())

    os.chdir(project)
    artifacts = project / "artifacts"

    def flowyml_run() -> None:
        run = handoff.run()
        if run.status != "completed":
            raise SystemExit(f"the benchmark pipeline did not complete: {run.status}")

    def raw() -> None:
        raw_write(project / "raw.npy")  # np.save appends .npy to any other name

    def clean() -> None:
        shutil.rmtree(artifacts, ignore_errors=True)
        (project / "raw.npy").unlink(missing_ok=True)
        os.sync()  # nobody pays for the other's dirty pages
        gc.collect()

    flowyml_run()  # warm: imports, plugins, the metadata database
    clean()
    times: dict[str, list[float]] = {"raw": [], "flowyml": []}
    cpu: dict[str, list[tuple[float, float]]] = {"raw": [], "flowyml": []}
    for i in range(repeats):
        for name, call in (("raw", raw), ("flowyml", flowyml_run)) if i % 2 == 0 else (("flowyml", flowyml_run), ("raw", raw)):
            start, start_cpu = time.perf_counter(), _user_sys()
            call()
            times[name].append(time.perf_counter() - start)
            end_cpu = _user_sys()
            cpu[name].append((end_cpu[0] - start_cpu[0], end_cpu[1] - start_cpu[1]))
            clean()
            time.sleep(settle)
    tiny = value[:1]
    produce_value = value

    def tiny_run() -> None:
        nonlocal value
        value = tiny
        try:
            flowyml_run()
        finally:
            value = produce_value

    fixed = []
    for _ in range(repeats):
        start = time.perf_counter()
        tiny_run()
        fixed.append(time.perf_counter() - start)
    clean()
    with PeakRSS() as mem:
        base = mem.peak
        flowyml_run()
    clean()
    raw_s, flow_s = statistics.median(times["raw"]), statistics.median(times["flowyml"])
    got = {"raw": raw_s, "flowyml": flow_s, "ratio": flow_s / raw_s, "extra_mb": (mem.peak - base) / 1e6, "hash": hash_alone(value, repeats),
           "raw_best": min(times["raw"]), "flowyml_best": min(times["flowyml"]), "fixed": statistics.median(fixed)}
    for name in ("raw", "flowyml"):
        got[f"{name}_user"] = statistics.median(u for u, _ in cpu[name])
        got[f"{name}_sys"] = statistics.median(s for _, s in cpu[name])
    got["best_ratio"] = got["flowyml_best"] / got["raw_best"]
    return got


def _user_sys() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # every thread of the process: the hasher's too
    return usage.ru_utime, usage.ru_stime


def hash_alone(value: Any, repeats: int) -> float:
    """The median CPU time of hashing the value's memory alone, as the serializers record it (BLAKE3)."""
    from flowyml.serialization import digests

    times = []
    for _ in range(repeats):
        start = time.process_time()
        digest = digests.new(digests.STREAMING)
        digest.update(memoryview(value).cast("B"))
        digest.hexdigest()
        times.append(time.process_time() - start)
    return statistics.median(times)


def report(what: str, baseline: str, got: dict[str, float]) -> bool:
    print(f"{what} between two steps: median {got['flowyml']:.3f} s vs {baseline} {got['raw']:.3f} s = {got['ratio']:.2f}x,"
          f" best {got['flowyml_best']:.3f} s vs {got['raw_best']:.3f} s = {got['best_ratio']:.2f}x (target <= 1.15x);"
          f" peak memory +{got['extra_mb']:.0f} MB (target <= 64)")
    print(f"  the same pipeline with a one-element value: {got['fixed']:.3f} s (per-run cost, not the value's)")
    print(f"  CPU time (median): flowyml user {got['flowyml_user']:.3f} s + system {got['flowyml_sys']:.3f} s,"
          f" {baseline} user {got['raw_user']:.3f} s + system {got['raw_sys']:.3f} s; blake3 alone {got['hash']:.3f} s")
    return got["ratio"] <= 1.15 and got["extra_mb"] <= 64


def main() -> int:
    import numpy as np

    import flowyml

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="128 MiB array, 64 MB bytes")
    parser.add_argument("--settle", type=float, default=0.0, help="seconds to wait after each timed call (default 0)")
    args = parser.parse_args()
    array_bytes = (128 if args.quick else 1024) << 20
    bytes_len = (64 if args.quick else 500) * 10**6
    print(f"flowyml from {Path(flowyml.__file__).parent}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; median of {args.repeats}, raw and flowyml alternated,"
          f" {args.settle:g} s settling after each call")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        array = np.random.default_rng(0).random(array_bytes // 8)
        got = measure(array, lambda p: np.save(p, array, allow_pickle=False), Path(tmp), args.repeats, settle=args.settle)
        ok &= report(f"{array.nbytes / 2**30:.3g} GiB float64 array", "np.save", got)
        array = None  # free it before the bytes value
        gc.collect()
        blob = os.urandom(bytes_len)
        got = measure(blob, lambda p: p.write_bytes(blob), Path(tmp), args.repeats, settle=args.settle)
        ok &= report(f"{bytes_len / 1e6:.0f} MB bytes value", "raw write", got)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
