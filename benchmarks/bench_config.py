"""Config benchmarks: a 20,000-stack flowyml.yaml, and how fast hostile files are refused.

    python benchmarks/bench_config.py [--stacks 20000] [--repeats 3]

Prints each figure beside its target (#10 §4): ``flowyml stack list`` on a
valid file of 20,000 stacks (about 1.3 MB) under a second, and an alias bomb,
a recursive alias and 5,000-deep nesting refused within a second with no
large memory use. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def many_stacks(count: int) -> str:
    """A valid flowyml.yaml of ``count`` small stacks (about 70 bytes each: 20,000 make 1.4 MB)."""
    lines = ["stacks:"]
    for i in range(count):
        lines.append(f"  s{i:05d}:\n    orchestrator: {{type: local}}\n    artifact_store: {{type: local}}")
    lines.append("active_stack: s00000")
    return "\n".join(lines) + "\n"


HOSTILE = {
    "alias bomb (9^9 values)": "stacks:\n  a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"  {n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)),
    "recursive alias": "stacks:\n  a: &loop { orchestrator: *loop }\n",
    "5,000-deep block nesting": "stacks:\n  a:\n" + "".join(" " * (4 + 2 * i) + f"k{i}:\n" for i in range(5000)),
    "5,000-deep flow nesting": "stacks: " + "[" * 5000 + "]" * 5000 + "\n",
}


def _flowyml() -> list[str]:
    return [sys.executable, "-m", "flowyml"]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_cli(folder: Path, *args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Wall seconds of one CLI call (its CPU seconds are in ``timed_cli.cpu``)."""
    cpu, start = _children_cpu(), time.perf_counter()
    done = subprocess.run([*_flowyml(), *args], cwd=folder, capture_output=True, text=True, timeout=120)
    timed_cli.cpu = _children_cpu() - cpu  # type: ignore[attr-defined]
    return time.perf_counter() - start, done


def in_process(path: Path, repeats: int) -> float:
    """Median seconds to read and structure the file and find each stack's first problem, in this process."""
    from flowyml.config.schema import build_project
    from flowyml.config.source import load_source
    from flowyml.stacks.validation import structural_problem

    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        project = build_project(load_source(path))
        for name in project.names:
            structural_problem(project, name)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def refusal_time(text: str) -> float:
    """Seconds this process takes to read ``text`` and refuse it."""
    from flowyml.config.source import parse_source
    from flowyml.errors import ConfigError

    start = time.perf_counter()
    try:
        parse_source(text, "flowyml.yaml")
    except ConfigError:
        return time.perf_counter() - start
    raise AssertionError("a hostile file was accepted")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    text = many_stacks(args.stacks)
    print(f"flowyml.yaml with {args.stacks:,} stacks: {len(text.encode()) / 1e6:.2f} MB")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        starts = [(timed_cli(folder, "--version")[0], timed_cli.cpu) for _ in range(args.repeats)]  # type: ignore[attr-defined]
        startup, startup_cpu = statistics.median(t for t, _ in starts), statistics.median(c for _, c in starts)
        for label, hostile in HOSTILE.items():
            (folder / "flowyml.yaml").write_text(hostile, encoding="utf-8")
            took, done = timed_cli(folder, "stack", "list")
            peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # largest child so far
            refused = done.returncode == 1 and "Traceback" not in done.stderr
            first = done.stderr.strip().splitlines()[0] if done.stderr.strip() else "(no message)"
            reading = refusal_time(hostile)
            print(f"  {label:<28} refused={refused}  {took:.2f} s (target < 1 s; reading alone {reading * 1000:.1f} ms)  peak RSS <= {peak_mb:.0f} MB")
            print(f"      {first[first.find('flowyml.yaml'):][:110]}")
        (folder / "flowyml.yaml").write_text(text, encoding="utf-8")
        runs, cpus = [], []
        for _ in range(args.repeats):
            took, done = timed_cli(folder, "stack", "list")
            assert done.returncode == 0 and done.stdout.count("\n   s") + 1 >= args.stacks, done.stderr[-500:]
            runs.append(took)
            cpus.append(timed_cli.cpu)  # type: ignore[attr-defined]
        listing, cpu = statistics.median(runs), statistics.median(cpus)
        parse = in_process(folder / "flowyml.yaml", args.repeats)
        print(f"  flowyml stack list (whole command):  {listing:.2f} s   target < 1 s   ({listing:.2f}x of the target)")
        print(f"    CPU time of that command:          {cpu:.2f} s   (what an idle machine's wall time would be near)")
        print(f"    of which interpreter + CLI start:  {startup:.2f} s wall, {startup_cpu:.2f} s CPU   (flowyml --version)")
        print(f"    reading + checking, in process:    {parse:.2f} s")


if __name__ == "__main__":
    main()
