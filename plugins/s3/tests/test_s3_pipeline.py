"""End to end: the spec's pipeline on a stack whose artifact store is s3 (moto server)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from s3_helpers import ROUTE, s3_project, s3_stack  # noqa: F401 - s3_project is a fixture
from s3_pipelines_expected import expected_features

from flowyml.core import Dataset, Metrics, Model
from flowyml.metadata.store import MetadataStore
from flowyml.runner.loading import load_stored
from flowyml.serialization.artifact_io import MANIFEST
from flowyml.stores.packed import MAGIC
from flowyml.testing import load_pipeline
from standins.aws import boto3_client


def objects(endpoint: str, bucket: str, prefix: str) -> dict[str, int]:
    s3 = boto3_client("s3", endpoint)
    found: dict[str, int] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        found.update({o["Key"]: o["Size"] for o in page.get("Contents", [])})
    return found


def manifest_of(endpoint: str, bucket: str, key: str) -> tuple[dict[str, Any], bytes | None]:
    """The manifest stored at ``key``, and the data files' bytes when it is one packed object (else ``None``)."""
    body = boto3_client("s3", endpoint).get_object(Bucket=bucket, Key=f"{key}/{MANIFEST}")["Body"].read()
    if body.startswith(MAGIC):
        manifest_line, _, data = body[len(MAGIC) :].partition(b"\n")
        return json.loads(manifest_line), data
    return json.loads(body), None


def test_spec_pipeline_stores_at_the_rendered_keys(s3_project: Any, s3_bucket: str, aws_env: Any) -> None:
    project = s3_project({"aws": s3_stack(s3_bucket)})
    run = load_pipeline(project, "spec_pipeline").run(stack="aws")
    assert run.status == "completed", run.error
    stored = {a.step_name: a for a in run.artifacts}
    assert set(stored) == {"load_data", "preprocess", "params", "train_model", "evaluate"}

    keys = objects(aws_env.endpoint_url, s3_bucket, "ml/")
    records = {r["artifact_id"]: r for r in MetadataStore.for_project(project).list_artifacts(run.run_id)}
    for step_name in ("load_data", "preprocess", "train_model"):
        artifact = stored[step_name]
        key = f"ml/{ROUTE.format(run_id=run.run_id, step_name=step_name)}"
        assert artifact.uri == f"s3://{s3_bucket}/{key}"
        manifest, packed = manifest_of(aws_env.endpoint_url, s3_bucket, key)
        assert f"{key}/{MANIFEST}" in keys
        if step_name == "train_model":  # a Model stays a folder: the deployers read its files
            assert packed is None
            for name, info in manifest["files"].items():
                assert keys[f"{key}/{name}"] == info["size"]
        else:  # a small Dataset is one object: its packed form at KEY/flowyml.json
            assert packed is not None and {k for k in keys if k.startswith(key + "/")} == {f"{key}/{MANIFEST}"}
            assert len(packed) == sum(info["size"] for info in manifest["files"].values())
        # the hash the run recorded is the stored manifest's
        assert manifest["content_hash"] == artifact.content_hash
        assert manifest["run_id"] == run.run_id and manifest["step_name"] == step_name
        assert records[artifact.artifact_id]["uri"] == artifact.uri
        assert records[artifact.artifact_id]["content_hash"] == artifact.content_hash
    # Metrics/Parameters have no rule: the default template, still in the bucket
    assert stored["evaluate"].uri.startswith(f"s3://{s3_bucket}/ml/")

    # load back from S3 (a fresh read, verified against the recorded hash) and compare
    raw = load_stored(stored["load_data"])
    features = load_stored(stored["preprocess"])
    assert isinstance(raw, Dataset) and isinstance(features, Dataset) and features.format == "parquet"
    pd.testing.assert_frame_equal(features.data, expected_features())
    model = load_stored(stored["train_model"])
    assert isinstance(model, Model) and model.name == "fraud_detector" and model.framework == "sklearn"
    metrics = load_stored(stored["evaluate"])
    assert isinstance(metrics, Metrics)
    frame = features.data
    assert metrics.data["accuracy"] == pytest.approx(float((model.data.predict(frame[["a", "b", "c"]]) == frame["label"]).mean()))


def test_a_second_run_reuses_the_cache_from_s3(s3_project: Any, s3_bucket: str) -> None:
    project = s3_project({"aws": s3_stack(s3_bucket)})
    pipeline = load_pipeline(project, "spec_pipeline")
    first = pipeline.run(stack="aws")
    second = pipeline.run(stack="aws")
    assert first.success and second.success
    assert {s.status for s in second.steps.values()} == {"cached"}
    assert second.artifact("train_model").uri == first.artifact("train_model").uri


def test_stack_check_writes_and_reads_the_bucket(s3_project: Any, s3_bucket: str) -> None:
    from click.testing import CliRunner

    from flowyml.cli.main import cli

    s3_project({"aws": s3_stack(s3_bucket)})
    result = CliRunner().invoke(cli, ["stack", "check", "aws"])
    assert result.exit_code == 0, result.output
    assert f"s3://{s3_bucket}/ml" in result.output


def test_describe_names_bucket_prefix_endpoint(tmp_path: Path, s3_bucket: str, aws_env: Any) -> None:
    from flowyml.plugins.kinds import Kind
    from flowyml.testing import make_stack

    stack = make_stack(tmp_path, {"artifact_store": {"type": "s3", "bucket": s3_bucket, "prefix": "/p/q/", "endpoint_url": aws_env.endpoint_url, "region": "eu-west-1"}})
    store = stack.component(Kind.ARTIFACT_STORE)
    assert store.describe() == f"s3://{s3_bucket}/p/q via {aws_env.endpoint_url}, region eu-west-1"
    assert stack.hook.flowyml_artifact_store_uri(key="r/x") == f"s3://{s3_bucket}/p/q/r/x"
