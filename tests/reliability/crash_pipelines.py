"""Pipelines the crash tests run in a real ``flowyml run`` subprocess (copied into each test project).

- ``chain``: three steps passing ~``CRASH_MB`` MB arrays along, so a SIGKILL at a
  random moment often lands while an artifact is being written;
- ``sleepy``: one step that writes ``started`` beside flowyml.yaml and sleeps (for Ctrl-C);
- ``exits`` / ``interrupts``: a step that calls ``sys.exit(3)`` / raises ``KeyboardInterrupt`` itself.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

from flowyml import Dataset, Model, pipeline, step

ITEMS = int(float(os.environ.get("CRASH_MB", "8")) * 2**20) // 8


@step(cache=False)
def make_data() -> Dataset:
    return Dataset(np.arange(ITEMS, dtype=np.float64))


@step(cache=False)
def scale(data: Dataset) -> Dataset:
    return Dataset(np.asarray(data.data) * 2.0)


@step(cache=False)
def fit(data: Dataset) -> Model:
    return Model({"mean": float(np.asarray(data.data).mean())}, name="crash_model", version="1")


@pipeline
def chain() -> None:
    fit(scale(make_data()))


@step(cache=False)
def half_written() -> Dataset:
    return Dataset(np.arange(ITEMS, dtype=np.float64))


@step(cache=False)
def wait_for_signal(data: Dataset) -> Dataset:
    Path("started").write_text(str(os.getpid()))
    time.sleep(60)
    return data


@pipeline
def sleepy() -> None:
    wait_for_signal(half_written())


@step
def calls_exit() -> Dataset:
    sys.exit(3)


@pipeline
def exits() -> None:
    calls_exit()


@step
def raises_interrupt() -> Dataset:
    raise KeyboardInterrupt


@pipeline
def interrupts() -> None:
    raises_interrupt()
