"""The pipeline of :class:`flowyml.testing.OrchestratorContract`: a diamond whose right branch fails.

::

    source(n) ─┬─ left ──┬── join      (needs right: skipped)
               │         └── summary   (independent of right: completes)
               └─ right (raises)

Copied into the contract's project as ``pipelines.py``; every value depends
only on the parameter ``n``, so a remote run's artifacts hash like a local run's.
"""

from __future__ import annotations

from flowyml import Dataset, Metrics, pipeline, step

FAILURE = "contract: the right branch fails"


@step
def source(n: int) -> Dataset:
    return Dataset({"values": list(range(n))}, name="numbers")


@step
def left(data: Dataset) -> Dataset:
    return Dataset({"values": [2 * v for v in data.data["values"]]}, name="doubled")


@step
def right(data: Dataset) -> Dataset:
    raise RuntimeError(FAILURE)


@step
def join(doubled: Dataset, other: Dataset) -> Metrics:
    return Metrics({"total": sum(doubled.data["values"]) + sum(other.data["values"])})


@step
def summary(doubled: Dataset) -> Metrics:
    return Metrics({"count": len(doubled.data["values"]), "total": sum(doubled.data["values"])})


@pipeline
def diamond(n: int = 3) -> None:
    data = source(n)
    doubled = left(data)
    join(doubled, right(data))
    summary(doubled)
