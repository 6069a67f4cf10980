"""A small pure-Python pipeline for the remote-cache tests (importable by path, so step containers load it again).

    source ──> double ──> total
       └─────> side

No heavy imports, so each step's container (a fresh ``flowyml step run``
process in the tests) starts quickly. ``double``'s body holds the marker line
the tests edit to change that one step's code.
"""

from __future__ import annotations

from flowyml import Metrics, pipeline, step


@step
def source() -> list[int]:
    return list(range(10))


@step
def double(values: list[int]) -> list[int]:
    factor = 2  # CODE-MARKER
    return [v * factor for v in values]


@step
def total(values: list[int]) -> Metrics:
    return Metrics({"total": float(sum(values))})


@step
def side(values: list[int]) -> int:
    return len(values)


@pipeline
def cache_pipeline() -> None:
    values = source()
    total(double(values))
    side(values)


STEPS = ("source", "double", "total", "side")


def change_double(path: str) -> None:
    """Edit ``double``'s code in the copy at ``path`` (same result, other code: a new cache key)."""
    from pathlib import Path

    file = Path(path)
    text = file.read_text(encoding="utf-8")
    assert "# CODE-MARKER" in text
    file.write_text(text.replace("factor = 2  # CODE-MARKER", "factor = 1 + 1  # CODE-MARKER (edited)"), encoding="utf-8")
