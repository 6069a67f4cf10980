"""End to end: a pipeline whose Dataset and Model routes go to a gcs store on the emulator."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from blake3 import blake3
from support import spec_pipelines

from flowyml.testing import write_config

STACK = "gcs-e2e"


def stack_body(store: dict[str, Any]) -> dict[str, Any]:
    return {
        "orchestrator": {"type": "local"},
        "artifact_store": store,
        "artifact_routing": {
            "Dataset": {"store": "gcs", "path": "{run_id}/datasets/{step_name}"},
            "Model": {"store": "gcs", "path": "{run_id}/models/{step_name}"},
        },
    }


def raw_fs(endpoint: str) -> Any:
    import gcsfs

    return gcsfs.GCSFileSystem(token="anon", endpoint_url=endpoint, use_listings_cache=False, skip_instance_cache=True)


def test_spec_pipeline_stores_at_rendered_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gcs_store_config: dict[str, Any]
) -> None:
    monkeypatch.chdir(tmp_path)
    write_config(tmp_path, {STACK: stack_body(gcs_store_config)})
    run = spec_pipelines.spec_pipeline.run(stack=STACK)
    assert run.success, run.error

    bucket, root = gcs_store_config["bucket"], f"{gcs_store_config['bucket']}/flowyml"
    fs = raw_fs(gcs_store_config["endpoint_url"])
    dataset = run.artifact("preprocess")
    model = run.artifact("train_model")
    assert dataset.uri == f"gs://{root}/{run.run_id}/datasets/preprocess"
    assert model.uri == f"gs://{root}/{run.run_id}/models/train_model"
    # Metrics have no path rule: the default template, still inside the bucket.
    assert run.artifact("evaluate").uri.startswith(f"gs://{bucket}/flowyml/")

    db = sqlite3.connect(tmp_path / ".flowyml" / "metadata.db")
    db.row_factory = sqlite3.Row
    for stored in (dataset, model, run.artifact("evaluate")):
        path = stored.uri.removeprefix("gs://")
        manifest = json.loads(fs.cat_file(f"{path}/flowyml.json"))
        assert manifest["content_hash"] == stored.content_hash
        (recorded,) = db.execute("SELECT content_hash, uri FROM artifacts WHERE artifact_id=?", (stored.artifact_id,))
        assert (recorded["content_hash"], recorded["uri"]) == (stored.content_hash, stored.uri)
        for name, entry in manifest["files"].items():
            data = fs.cat_file(f"{path}/{name}")
            ((algorithm, want),) = [(k, v) for k, v in entry.items() if k in ("sha256", "blake3")]
            digest = blake3(data) if algorithm == "blake3" else hashlib.sha256(data)  # parquet and pickle: blake3
            assert digest.hexdigest() == want
            assert len(data) == entry["size"]

    # Loading back goes through the store (a fresh process would do the same).
    loaded = dataset.load()
    pd.testing.assert_frame_equal(loaded.data, spec_pipelines.frame().astype("float64"))
    clf = model.load().data
    assert list(clf.predict(loaded.data[["x1", "x2"]].head(3))) == list(run.load("train_model").data.predict(loaded.data[["x1", "x2"]].head(3)))
    assert run.load("evaluate")["accuracy"] > 0.5


def test_missing_bucket_fails_the_run_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gcs_env: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    store = {"type": "gcs", "bucket": "no-such-bucket-flowyml", "endpoint_url": gcs_env.endpoint_url}
    write_config(tmp_path, {STACK: stack_body(store)})
    run = spec_pipelines.spec_pipeline.run(stack=STACK)
    assert run.status == "failed"
    assert run.steps["load"].status == "failed"
    assert {run.steps[s].status for s in ("preprocess", "train_model", "evaluate")} == {"skipped"}
    error = run.steps["load"].error
    assert "gs://no-such-bucket-flowyml does not exist" in error
    assert STACK in error and "gcloud storage buckets create" in error


def test_stack_check_reports_missing_bucket_and_success(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gcs_env: Any, gcs_bucket: str
) -> None:
    from flowyml.errors import StoreError
    from flowyml.testing import make_stack

    monkeypatch.chdir(tmp_path)
    good = make_stack(tmp_path, {"artifact_store": {"type": "gcs", "bucket": gcs_bucket}})
    lines = [line for result in good.hook.flowyml_component_check() for line in result]
    assert f"bucket gs://{gcs_bucket} exists" in lines
    bad = make_stack(tmp_path, {"artifact_store": {"type": "gcs", "bucket": "absent-bucket"}})
    with pytest.raises(StoreError, match="absent-bucket does not exist") as caught:
        bad.hook.flowyml_component_check()
    assert caught.value.hint and "gcloud storage buckets create gs://absent-bucket" in caught.value.hint


@pytest.mark.slow
def test_server_stopped_mid_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gcs_env: Any) -> None:
    """The storage server goes away inside a step: clear error, run failed, nothing half-written."""
    from gcp_storage_emulator.server import create_server

    from standins.gcs import GcsEmulator, _free_port

    data_dir = tmp_path / "emulator-data"
    data_dir.mkdir()

    def start() -> GcsEmulator:
        port = _free_port("127.0.0.1")
        server = create_server("127.0.0.1", port, in_memory=False, default_bucket="durable", data_dir=str(data_dir))
        server.start()
        return GcsEmulator(server, "127.0.0.1", port, "durable")

    first = start()
    monkeypatch.setattr(spec_pipelines, "SABOTEUR", first)
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    # max_attempts 1: gcsfs alone retries a refused connection for ~30 s before giving up.
    store = {"type": "gcs", "bucket": "durable", "endpoint_url": first.endpoint_url, "max_attempts": 1}
    write_config(project, {STACK: stack_body(store)})
    try:
        run = spec_pipelines.interrupted.run(stack=STACK)
    finally:
        first.stop()
    assert run.status == "failed"
    assert run.steps["preprocess"].status == "completed"
    failed = run.steps["sabotage"]
    assert failed.status == "failed"
    assert "cannot reach Google Cloud Storage at " + first.endpoint_url in failed.error
    assert STACK in failed.error

    second = start()  # same data directory: what the first server had stored
    try:
        fs = raw_fs(second.endpoint_url)
        assert not fs.exists(f"durable/{run.run_id}/datasets/sabotage/flowyml.json")
        earlier = run.artifact("preprocess")
        store["endpoint_url"] = second.endpoint_url
        from flowyml.runner.loading import load_stored
        from flowyml.testing import make_stack

        stack = make_stack(project, {"artifact_store": store})
        pd.testing.assert_frame_equal(load_stored(earlier, stack).data, spec_pipelines.frame().astype("float64"))
    finally:
        second.stop()
