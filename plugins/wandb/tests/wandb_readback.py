"""Reading back a W&B offline run written by the wandb tracker (the stand-in's reader)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from standins.wandb_offline import OfflineRun, find_offline_runs, read_offline_run

STEP_KEY = "flowyml/step"
WANDB_KEYS = ("_step", "_runtime", "_timestamp", STEP_KEY)


def offline_run(directory: Path, flowyml_run_id: str, timeout: float = 30.0) -> OfflineRun:
    """The one offline run below ``directory`` named after the FlowyML run, once its exit record is on disk.

    wandb-core writes the ``.wandb`` file through a buffer that it may flush
    shortly after ``Run.finish()`` returns (seen: a 7-byte file right after
    finish, complete a moment later), so this waits for the exit record.
    """
    deadline = time.monotonic() + timeout
    while True:
        runs = [read_offline_run(path) for path in find_offline_runs(directory)]
        named = [r for r in runs if r.name == flowyml_run_id]
        if len(named) == 1 and named[0].exit_code is not None:
            return named[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no finished offline run named {flowyml_run_id} under {directory}: {[(r.name, r.exit_code) for r in runs]}")
        time.sleep(0.1)


def metric_histories(run: OfflineRun) -> dict[str, list[tuple[int | None, float]]]:
    """``{key: [(flowyml step or None, value), ...]}`` from the history rows."""
    out: dict[str, list[tuple[int | None, float]]] = {}
    for row in run.history:
        for key, value in row.items():
            if key not in WANDB_KEYS and not key.startswith("_"):
                out.setdefault(key, []).append((row.get(STEP_KEY), value))
    return out


def contract_view(run: OfflineRun) -> dict[str, Any]:
    return {"metrics": metric_histories(run), "params": dict(run.config), "status": run.exit_code, "tags": run.tags}
