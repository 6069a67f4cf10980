"""The pipeline every process of tests/team runs: small, but it writes every kind of record.

``token`` makes each run's model content unique, so each run registers a new, automatically
numbered version of ``team_model``. Before the run starts, every process waits at a barrier
(``TEAM_BARRIER``: a folder, ``TEAM_PROCESSES``: how many must be ready) so that the runs
really overlap instead of being spread out by the interpreters' start-up times.

    flowyml run pipeline.py -p token=T
    python pipeline.py T
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from flowyml import pipeline
from flowyml.core import Dataset, Metrics, Model, Parameters, step


def wait_for_everyone() -> None:
    folder = os.environ.get("TEAM_BARRIER")
    if not folder or os.environ.get("TEAM_BARRIER_PASSED"):
        return
    os.environ["TEAM_BARRIER_PASSED"] = "1"
    expected = int(os.environ["TEAM_PROCESSES"])
    (Path(folder) / f"ready-{os.getpid()}").touch()
    deadline = time.monotonic() + 120
    while len(list(Path(folder).glob("ready-*"))) < expected:
        if (Path(folder) / "abort").exists():
            raise SystemExit("barrier: another process failed before the runs started")
        if time.monotonic() > deadline:
            raise SystemExit(f"barrier: fewer than {expected} processes became ready in 120 s")
        time.sleep(0.01)


wait_for_everyone()


@step
def settings(token: str) -> Parameters:
    return Parameters({"token": token})


@step
def load(token: str) -> Dataset:
    return Dataset(data={"rows": [1, 2, 3], "token": token}, name="rows")


@step
def train(data: Dataset, token: str) -> Model:
    return Model(data={"weights": sum(data.data["rows"]), "token": token}, name="team_model")


@step
def evaluate(model: Model) -> Metrics:
    return Metrics({"score": float(model.data["weights"])})


@pipeline
def team_pipeline(token: str = "none") -> None:
    settings(token)
    evaluate(train(load(token), token))


if __name__ == "__main__":
    run = team_pipeline.run(token=sys.argv[1])
    print(f"Run {run.run_id}: {run.status}")
    sys.exit(0 if run.success else 1)
