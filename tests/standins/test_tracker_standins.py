"""Self-tests of the experiment-tracker stand-ins (mlflow server, wandb offline, TensorBoard).

Run with::

    PYTHONPATH=tests pytest -p standins.mlflow_server -p standins.wandb_offline \\
        tests/standins/test_tracker_standins.py

Vendor libraries are skipped per test, so the module imports (and the framing
test runs) with only pytest installed.
"""

from __future__ import annotations

import time
import zlib
from pathlib import Path

import pytest

from standins import mlflow_server as mlflow_standin
from standins.tensorboard_events import read_hparam_sessions, read_hparams, read_scalars
from standins.wandb_offline import (
    BLOCK_SIZE,
    FILE_HEADER,
    RECORD_HEADER,
    OfflineRunFormatError,
    find_offline_runs,
    iter_log_payloads,
    read_offline_run,
)

# --------------------------------------------------------------------------- mlflow


@pytest.mark.slow
def test_mlflow_roundtrip_and_registry(mlflow_env: mlflow_standin.MlflowTestEnv) -> None:
    """Params, stepped metrics, tags and an artifact round-trip; a model version registers."""
    mlflow = pytest.importorskip("mlflow", reason="installed by the mlflow nox session")
    from mlflow.tracking import MlflowClient

    assert mlflow.get_tracking_uri() == mlflow_env.tracking_uri
    with mlflow.start_run(run_name="standin-run", tags={"team": "flowyml"}) as run:
        mlflow.log_params({"lr": 0.01, "optimizer": "adam"})
        for step, loss in enumerate([0.9, 0.5, 0.25]):
            mlflow.log_metric("loss", loss, step=step)
        mlflow.set_tag("stage", "test")
        mlflow.log_text("weights", "model/weights.txt")
    run_id = run.info.run_id

    client = MlflowClient()
    experiment = client.get_experiment_by_name(mlflow_env.experiment_name)
    assert experiment is not None and run.info.experiment_id == experiment.experiment_id
    fetched = client.get_run(run_id)
    assert fetched.data.params == {"lr": "0.01", "optimizer": "adam"}
    assert fetched.data.tags["team"] == "flowyml" and fetched.data.tags["stage"] == "test"
    assert fetched.info.status == "FINISHED"
    history = client.get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 0.9), (1, 0.5), (2, 0.25)]
    assert [a.path for a in client.list_artifacts(run_id, "model")] == ["model/weights.txt"]
    stored = list(mlflow_env.server.artifacts_dir.rglob("weights.txt"))
    assert len(stored) == 1 and stored[0].read_text() == "weights"

    name = f"{mlflow_env.experiment_name}-model"
    client.create_registered_model(name)
    version = client.create_model_version(
        name, source=f"{fetched.info.artifact_uri}/model", run_id=run_id, tags={"k": "v"}
    )
    assert version.version == "1"
    got = client.get_model_version(name, version.version)
    assert got.run_id == run_id and (got.source or "").endswith("/model") and got.tags == {"k": "v"}
    assert [v.version for v in client.search_model_versions(f"name='{name}'")] == ["1"]


@pytest.mark.slow
def test_mlflow_env_gives_each_test_its_own_experiment(
    mlflow_env: mlflow_standin.MlflowTestEnv,
) -> None:
    """The experiment name is derived from the test name and made unique."""
    assert mlflow_env.experiment_name.startswith("test_mlflow_env_gives_each_test")
    assert mlflow_env.tracking_uri.startswith("http://127.0.0.1:")


@pytest.mark.slow
def test_mlflow_server_stop_leaves_no_process(tmp_path: Path) -> None:
    """Stopping a server ends the parent and every worker it spawned."""
    pytest.importorskip("mlflow", reason="installed by the mlflow nox session")
    started = time.monotonic()
    server = mlflow_standin.start_mlflow_server(tmp_path / "srv")
    try:
        assert time.monotonic() - started < 120
        workers = mlflow_standin._descendants(server.process.pid)
        assert workers, "expected gunicorn/uvicorn worker processes"
    finally:
        mlflow_standin.stop_process_tree(server.process)
    assert server.process.poll() is not None
    assert not [pid for pid in workers | {server.process.pid} if mlflow_standin._alive(pid)]


# --------------------------------------------------------------------------- wandb


def _frame(kind: int, payload: bytes) -> bytes:
    """One LevelDB-log record (crc32 over type byte + payload)."""
    crc = zlib.crc32(payload, zlib.crc32(bytes([kind])))
    return RECORD_HEADER.pack(crc, len(payload), kind) + payload


def _write_log(payloads: list[bytes]) -> bytes:
    """Minimal writer used to test the reader's framing independently of wandb."""
    out = bytearray(FILE_HEADER.pack(b":W&B", 0xBEE1, 0))
    for payload in payloads:
        first = True
        while True:
            left = BLOCK_SIZE - len(out) % BLOCK_SIZE
            if left < RECORD_HEADER.size:
                out += b"\0" * left
                continue
            chunk, payload = (
                payload[: left - RECORD_HEADER.size],
                payload[left - RECORD_HEADER.size :],
            )
            last = not payload
            kind = 1 if first and last else 2 if first else 4 if last else 3
            out += _frame(kind, chunk)
            first = False
            if last:
                break
    return bytes(out)


def test_offline_log_framing_roundtrip() -> None:
    """FULL and FIRST/MIDDLE/LAST fragments, block padding, CRC and header checks."""
    payloads = [b"a" * 10, b"b" * 70_000, b"", b"c" * (BLOCK_SIZE - 30), b"d" * 5]
    data = _write_log(payloads)
    assert list(iter_log_payloads(data)) == payloads
    assert list(iter_log_payloads(data[:-3])) == payloads[:-1]  # torn tail is ignored
    corrupt = bytearray(data)
    corrupt[FILE_HEADER.size + RECORD_HEADER.size] ^= 0xFF
    with pytest.raises(OfflineRunFormatError, match="CRC"):
        list(iter_log_payloads(bytes(corrupt)))
    with pytest.raises(OfflineRunFormatError, match="header"):
        list(iter_log_payloads(b"LEVELDB" + data[7:]))


def test_wandb_offline_run_is_read_back(wandb_env: Path) -> None:
    """Config, three history steps, tags, summary and exit code come back from the file."""
    wandb = pytest.importorskip("wandb", reason="installed by the wandb nox session")

    blob = "x" * 70_000  # forces a record across 32 KiB blocks
    run = wandb.init(
        project="flowyml-standin",
        name="offline-check",
        group="grp",
        notes="a note",
        tags=["alpha", "beta"],
        config={"lr": 0.1, "layers": [64, 32], "nested": {"depth": 2}, "blob": blob},
    )
    for step in range(3):
        run.log({"loss": 1.0 / (step + 1), "epoch": step, "phase": {"name": f"p{step}"}})
    run.summary["best_loss"] = 0.25
    run.config.update({"late_key": True})
    run.finish()

    # wandb-core may flush the file a moment after finish() returns: wait for the exit record
    deadline = time.monotonic() + 30
    while True:
        paths = find_offline_runs(wandb_env)
        result = read_offline_run(paths[0].parent) if len(paths) == 1 else None
        if (result is not None and result.exit_code is not None) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert len(paths) == 1 and paths[0].parent.name.startswith("offline-run-")
    assert result is not None
    assert result.name == "offline-check" and result.group == "grp" and result.notes == "a note"
    assert result.project == "flowyml-standin" and result.run_id == run.id
    assert result.tags == ["alpha", "beta"]
    assert result.config == {
        "lr": 0.1,
        "layers": [64, 32],
        "nested": {"depth": 2},
        "blob": blob,
        "late_key": True,
    }
    assert [row["_step"] for row in result.history] == [0, 1, 2]
    assert result.metric("loss") == [(0, 1.0), (1, 0.5), (2, 1.0 / 3)]
    assert [row["phase.name"] for row in result.history] == ["p0", "p1", "p2"]
    assert result.summary["best_loss"] == 0.25 and result.summary["epoch"] == 2
    assert result.exit_code == 0


# --------------------------------------------------------------------------- tensorboard


def test_tensorboardx_scalars_and_hparams(tmp_path: Path) -> None:
    """Stepped scalars and add_hparams (written to a subdirectory) read back."""
    tensorboardx = pytest.importorskip(
        "tensorboardX", reason="installed by the tensorboard nox session"
    )
    pytest.importorskip("tensorboard", reason="installed by the tensorboard nox session")

    with tensorboardx.SummaryWriter(logdir=str(tmp_path)) as writer:
        for step in range(3):
            writer.add_scalar("loss", 1.0 / (step + 1), step)
            writer.add_scalar("train/acc", 0.5 * step, step * 10)
        writer.add_hparams(
            {"lr": 0.01, "optimizer": "adam", "batch": 32, "shuffle": True},
            {"hparam/accuracy": 0.75},
        )

    top_only = read_scalars(tmp_path, recursive=False)
    assert set(top_only) == {"loss", "train/acc"}
    scalars = read_scalars(tmp_path)
    assert [s for s, _ in scalars["loss"]] == [0, 1, 2]
    assert [v for _, v in scalars["loss"]] == pytest.approx([1.0, 0.5, 1.0 / 3])
    assert scalars["train/acc"] == [(0, 0.0), (10, 0.5), (20, 1.0)]
    assert scalars["hparam/accuracy"] == [(0, 0.75)]
    assert read_hparams(tmp_path) == {
        "lr": 0.01,
        "optimizer": "adam",
        "batch": 32.0,
        "shuffle": True,
    }
    (session,) = read_hparam_sessions(tmp_path)
    assert session.run_dir.parent == tmp_path and session.metrics == {"hparam/accuracy": 0.75}


def test_tensorboard_readers_on_empty_dir(tmp_path: Path) -> None:
    """No event files: empty results, not an error."""
    pytest.importorskip("tensorboard", reason="installed by the tensorboard nox session")
    assert read_scalars(tmp_path) == {}
    assert read_hparams(tmp_path) == {}
