"""Graph building: one step called n times in a chain (``inc``, ``inc_2``, ...).

    python benchmarks/bench_graph.py [--quick]

Prints the build time for n and 2n calls and their ratio (linear ~2.0x per doubling;
the old name search and recursive order were ~4x), and the time for 10,000 calls
(target: under 0.5 s). Building only: nothing is run or stored.
"""

from __future__ import annotations

import argparse
import statistics
import time

from flowyml import pipeline, step


def build_seconds(n_calls: int, repeats: int) -> float:
    @step(cache=False)
    def inc(x: int) -> int:
        return x + 1

    @pipeline
    def chain() -> None:
        value = inc(0)
        for _ in range(n_calls - 1):
            value = inc(value)

    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        graph = chain.build({})
        times.append(time.perf_counter() - start)
        assert len(graph.order) == n_calls and graph.order[-1] == f"inc_{n_calls}"
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats = 1 if args.quick else 3
    print("calls   build (s)   ratio to half")
    previous = None
    for n in (1_250, 2_500, 5_000, 10_000):
        seconds = build_seconds(n, repeats)
        ratio = f"{seconds / previous:.2f}x" if previous else "-"
        print(f"{n:>6}   {seconds:9.3f}   {ratio}")
        previous = seconds
    print(f"10,000 calls: {previous:.3f} s (target < 0.5 s)")


if __name__ == "__main__":
    main()
