"""Benchmark: logging 10,000 metric points through each FlowyML tracker against the tool's own client.

For every tracker (mlflow against a real ``mlflow server`` it starts on 127.0.0.1,
wandb in offline mode, tensorboard event files) and two batch shapes -
1,000 calls of 10 metrics and 10 calls of 1,000 metrics, each call at its own
step - it times:

* flowyml: the tracker hooks exactly as the core calls them
  (``flowyml_tracker_log_metrics`` on a built stack);
* raw:     the tool's client doing the same batches (``MlflowClient.log_batch``,
  ``Run.log``, ``SummaryWriter.add_scalar``).

Starting and ending runs is not timed. Prints the median of ``--repeat`` rounds
and the ratio flowyml/raw (target: at most 1.2).

    python benchmarks/bench_trackers.py [--repeat 3] [--only mlflow,wandb,tensorboard]

Needs flowyml, flowyml-mlflow, flowyml-wandb, flowyml-tensorboard, full mlflow
(for the server), wandb and tensorboardX. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
os.environ.update({"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1", "WANDB_MODE": "offline", "WANDB_SILENT": "true",
                   "WANDB_DISABLE_CODE": "true", "WANDB_DISABLE_GIT": "true", "WANDB_CONSOLE": "off",
                   "WANDB__DISABLE_STATS": "true", "WANDB__DISABLE_META": "true", "WANDB_BASE_URL": "http://127.0.0.1:9"})

SHAPES = {"1000 calls x 10": (1000, 10), "10 calls x 1000": (10, 1000)}
Batches = list[tuple[int, dict[str, float]]]


def batches(calls: int, width: int) -> Batches:
    return [(step, {f"m{j}": 1.0 / (step + j + 1) for j in range(width)}) for step in range(calls)]


def timed(fn: Callable[[], None]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


# -- flowyml side: a built stack, its hooks -----------------------------------------------


def flowyml_round(tracker: dict[str, Any], data: Batches, workdir: Path) -> float:
    from flowyml.plugins.types import RunInfo
    from flowyml.testing import make_stack

    project = workdir / f"p-{uuid.uuid4().hex[:8]}"
    project.mkdir()
    stack = make_stack(project, {"experiment_tracker": tracker})
    hook = stack.hook
    run_id = f"bench-{uuid.uuid4().hex[:8]}"
    hook.flowyml_tracker_start_run(run=RunInfo(run_id, "bench", stack.name, str(project), {"flowyml.run_id": run_id}))

    def log() -> None:
        for step, metrics in data:
            hook.flowyml_tracker_log_metrics(metrics=metrics, step=step, metadata={}, step_name="train")

    seconds = timed(log)
    hook.flowyml_tracker_end_run(status="completed")
    stack.close()
    return seconds


# -- raw clients -----------------------------------------------------------------------------


def raw_mlflow(uri: str, data: Batches, _: Path) -> float:
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    client = MlflowClient(uri)
    name = "bench-raw"
    experiment = client.get_experiment_by_name(name)
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(name)
    run_id = client.create_run(experiment_id).info.run_id

    def log() -> None:
        for step, metrics in data:
            stamp = int(time.time() * 1000)
            entries = [Metric(k, v, stamp, step) for k, v in metrics.items()]
            for i in range(0, len(entries), 1000):
                client.log_batch(run_id, metrics=entries[i : i + 1000], synchronous=True)

    seconds = timed(log)
    client.set_terminated(run_id, "FINISHED")
    return seconds


def raw_wandb(_: str, data: Batches, workdir: Path) -> float:
    import wandb

    run = wandb.init(project="bench-raw", mode="offline", dir=str(workdir), reinit="create_new")

    def log() -> None:
        for step, metrics in data:
            run.log(metrics, step=step)

    seconds = timed(log)
    run.finish()
    return seconds


def raw_tensorboard(_: str, data: Batches, workdir: Path) -> float:
    from tensorboardX import SummaryWriter

    writer = SummaryWriter(logdir=str(workdir / f"raw-{uuid.uuid4().hex[:8]}"))

    def log() -> None:
        for step, metrics in data:
            for key, value in metrics.items():
                writer.add_scalar(key, value, step)

    seconds = timed(log)
    writer.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="mlflow,wandb,tensorboard")
    args = parser.parse_args()
    only = set(args.only.split(","))

    with tempfile.TemporaryDirectory(prefix="bench-trackers-") as tmp:
        workdir = Path(tmp)
        server = None
        uri = ""
        if "mlflow" in only:
            from standins.mlflow_server import start_mlflow_server, stop_process_tree

            server = start_mlflow_server(workdir / "mlflow-server")
            uri = server.tracking_uri
            print(f"mlflow server at {uri} (started in {server.startup_seconds:.1f}s)")
        trackers: dict[str, tuple[dict[str, Any], Callable[[str, Batches, Path], float]]] = {
            "mlflow": ({"type": "mlflow", "tracking_uri": uri, "experiment_name": "bench"}, raw_mlflow),
            "wandb": ({"type": "wandb", "mode": "offline", "project": "bench", "dir": str(workdir)}, raw_wandb),
            "tensorboard": ({"type": "tensorboard", "log_dir": str(workdir / "tb")}, raw_tensorboard),
        }
        try:
            print(f"{'tracker':<12} {'shape':<16} {'flowyml s':>10} {'raw s':>8} {'ratio':>6}")
            for name, (tracker, raw) in trackers.items():
                if name not in only:
                    continue
                for label, (calls, width) in SHAPES.items():
                    data = batches(calls, width)
                    ours = [flowyml_round(tracker, data, workdir) for _ in range(args.repeat)]
                    theirs = [raw(uri, data, workdir) for _ in range(args.repeat)]
                    a, b = statistics.median(ours), statistics.median(theirs)
                    print(f"{name:<12} {label:<16} {a:>10.3f} {b:>8.3f} {a / b:>6.2f}", flush=True)
        finally:
            if server is not None:
                stop_process_tree(server.process)


if __name__ == "__main__":
    main()
