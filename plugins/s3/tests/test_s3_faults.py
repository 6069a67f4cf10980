"""Faults against real servers: missing bucket, rejected credentials, S3 going away mid-run, a failing step.

Each asserts a clear error (bucket, stack and fix named), a failed run, no
artifact at a final key that loads as complete, and earlier artifacts intact.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fault_proxy import FaultProxy
from s3_helpers import ROUTE, s3_project, s3_stack  # noqa: F401 - s3_project is a fixture

from flowyml.errors import ArtifactError, StoreError
from flowyml.metadata.store import MetadataStore
from flowyml.runner.loading import fetch_and_read
from flowyml.serialization.artifact_io import MANIFEST
from flowyml.testing import load_pipeline, make_stack
from standins.aws import boto3_client, start_moto_server


def direct_stack(project: Path, bucket: str, endpoint: str) -> Any:
    """A stack reading the same bucket straight from moto (not through the fault)."""
    (project / "reader").mkdir(exist_ok=True)
    return make_stack(project / "reader", {"artifact_store": {"type": "s3", "bucket": bucket, "prefix": "ml", "endpoint_url": endpoint}})


def keys_under(endpoint: str, bucket: str, prefix: str) -> set[str]:
    listing = boto3_client("s3", endpoint).list_objects_v2(Bucket=bucket, Prefix=prefix)
    return {o["Key"] for o in listing.get("Contents", [])}


def assert_intact(stack: Any, run: Any, steps: tuple[str, ...]) -> None:
    for name in steps:
        artifact = run.steps[name].output
        assert stack.hook.flowyml_artifact_store_exists(uri=artifact.uri)
        fetch_and_read(stack, artifact.uri, artifact.content_hash)  # verifies the recorded sha256


def test_missing_bucket_fails_at_once_naming_bucket_stack_and_fix(s3_project: Any, aws_env: Any, caplog: pytest.LogCaptureFixture) -> None:
    project = s3_project({"aws": s3_stack("no-such-bucket-here")})
    caplog.set_level(logging.WARNING, logger="flowyml.retries")
    run = load_pipeline(project, "spec_pipeline").run(stack="aws")
    assert run.status == "failed"
    # A permanent error is not retried (flowyml.retries logs every retry). Checked from the log, not
    # timed: a time limit failed on a loaded machine, where loading the stack alone took 13 s.
    retried = [r.getMessage() for r in caplog.records if r.name == "flowyml.retries"]
    assert retried == [], f"a permanent error was retried: {retried}"
    error = run.steps["load_data"].error
    assert "bucket 'no-such-bucket-here' does not exist" in error and "stack 'aws'" in error
    assert "aws s3 mb s3://no-such-bucket-here" in error
    assert MetadataStore.for_project(project).get_run(run.run_id)["status"] == "failed"


def test_stack_check_reports_a_missing_bucket(s3_project: Any, aws_env: Any) -> None:
    from click.testing import CliRunner

    from flowyml.cli.main import cli

    s3_project({"aws": s3_stack("no-such-bucket-here")})
    result = CliRunner().invoke(cli, ["stack", "check", "aws"])
    assert result.exit_code != 0
    assert "no-such-bucket-here" in result.output and "does not exist" in result.output


# -- credentials: a moto server that enforces IAM authentication ---------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def iam_moto(aws_env: Any, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A moto server (own process) that authenticates every request after the first three.

    The three unauthenticated calls create the bucket, an IAM user and its access key;
    that user has no policy, so its requests are denied, and unknown keys are rejected.
    """
    port = _free_port()
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "3"}
    log = open(tmp_path / "moto.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], env=env, stdout=log, stderr=log)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"moto server did not start: {(tmp_path / 'moto.log').read_text()}") from None
                time.sleep(0.1)
        bucket = "auth-bucket"
        boto3_client("s3", endpoint).create_bucket(Bucket=bucket)
        iam = boto3_client("iam", endpoint)
        iam.create_user(UserName="no-rights")
        key = iam.create_access_key(UserName="no-rights")["AccessKey"]
        yield {"endpoint": endpoint, "bucket": bucket, "key": key["AccessKeyId"], "secret": key["SecretAccessKey"]}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def test_unknown_access_key_is_a_clear_permanent_error(s3_project: Any, iam_moto: dict[str, str]) -> None:
    # aws_env's "testing" key is unknown to this server
    project = s3_project({"aws": s3_stack(iam_moto["bucket"], endpoint_url=iam_moto["endpoint"])})
    run = load_pipeline(project, "spec_pipeline").run(stack="aws")
    assert run.status == "failed"
    error = run.steps["load_data"].error
    assert "rejected the AWS credentials (InvalidAccessKeyId)" in error and "stack 'aws'" in error
    assert "AWS_ACCESS_KEY_ID" in error


def test_access_denied_names_the_permissions_needed(s3_project: Any, iam_moto: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", iam_moto["key"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", iam_moto["secret"])
    project = s3_project({"aws": s3_stack(iam_moto["bucket"], endpoint_url=iam_moto["endpoint"])})
    run = load_pipeline(project, "spec_pipeline").run(stack="aws")
    assert run.status == "failed"
    error = run.steps["load_data"].error
    assert f"access denied to s3://{iam_moto['bucket']}/ml" in error
    assert "s3:PutObject" in error and "s3:ListBucket" in error


# -- S3 going away in the middle of a run ------------------------------------------------------------


def test_endpoint_lost_before_a_manifest_leaves_no_complete_artifact(s3_project: Any, s3_bucket: str, aws_env: Any) -> None:
    proxy = FaultProxy(aws_env.port)
    # Let train_model's data files through, then drop everything as its manifest's PUT starts.
    proxy.cut_when(rb"PUT /[^ ]*/datasets/train_model/flowyml\.json")
    project = s3_project({"aws": s3_stack(s3_bucket, endpoint_url=proxy.endpoint_url)})
    try:
        run = load_pipeline(project, "spec_pipeline").run(stack="aws")
    finally:
        proxy.stop()
    assert proxy.cut.is_set()
    assert run.status == "failed"
    assert run.steps["train_model"].status == "failed" and run.steps["evaluate"].status == "skipped"
    error = run.steps["train_model"].error
    assert f"cannot reach S3 at {proxy.endpoint_url}" in error and "flowyml.json" in error and "stack 'aws'" in error

    key = f"ml/{ROUTE.format(run_id=run.run_id, step_name='train_model')}"
    left = keys_under(aws_env.endpoint_url, s3_bucket, key + "/")
    assert left and f"{key}/{MANIFEST}" not in left  # data files landed, the manifest never did
    reader = direct_stack(project, s3_bucket, aws_env.endpoint_url)
    uri = f"s3://{s3_bucket}/{key}"
    assert reader.hook.flowyml_artifact_store_exists(uri=uri) is False
    with pytest.raises(ArtifactError, match="no complete artifact"):
        reader.hook.flowyml_artifact_store_fetch(uri=uri, scratch=project / "scratch")
    assert_intact(reader, run, ("load_data", "preprocess", "params"))


def test_server_stopped_mid_run(s3_project: Any, aws_env: Any) -> None:
    # A second moto server (same in-process state as the session's) that the run uses and that stops mid-run.
    doomed = start_moto_server()  # starting resets moto's state: create the bucket afterwards
    s3_bucket = "stopped-mid-run"
    boto3_client("s3", aws_env.endpoint_url).create_bucket(Bucket=s3_bucket)
    project = s3_project({"aws": s3_stack(s3_bucket, endpoint_url=doomed.endpoint_url)})
    pipeline = load_pipeline(project, "spec_pipeline")
    module = sys.modules[pipeline.fn.__module__]
    module.HOOKS["evaluate"] = doomed.stop
    try:
        run = pipeline.run(stack="aws")
    finally:
        doomed.stop()
    assert run.status == "failed"
    assert [run.steps[s].status for s in ("load_data", "preprocess", "params", "train_model")] == ["completed"] * 4
    error = run.steps["evaluate"].error
    assert "cannot reach S3" in error and doomed.endpoint_url in error
    assert MetadataStore.for_project(project).get_run(run.run_id)["status"] == "failed"
    reader = direct_stack(project, s3_bucket, aws_env.endpoint_url)
    assert_intact(reader, run, ("load_data", "preprocess", "params", "train_model"))
    stored = keys_under(aws_env.endpoint_url, s3_bucket, "ml/")
    assert not any(key.endswith(f"/evaluate/output/{MANIFEST}") for key in stored)


def test_failing_step_keeps_earlier_artifacts(s3_project: Any, s3_bucket: str, aws_env: Any) -> None:
    project = s3_project({"aws": s3_stack(s3_bucket)})
    run = load_pipeline(project, "fail_after_train").run(stack="aws")
    assert run.status == "failed" and "boom" in run.steps["explode"].error
    reader = direct_stack(project, s3_bucket, aws_env.endpoint_url)
    assert_intact(reader, run, ("load_data", "preprocess", "params", "train_model"))
    assert not any("/explode" in key for key in keys_under(aws_env.endpoint_url, s3_bucket, "ml/"))


def test_transient_errors_are_retried_then_reported(tmp_path: Path, s3_bucket: str, aws_env: Any) -> None:
    proxy = FaultProxy(aws_env.port)
    proxy.stop()  # refuses every connection from the start
    stack = make_stack(tmp_path, {"artifact_store": {"type": "s3", "bucket": s3_bucket, "endpoint_url": proxy.endpoint_url, "max_attempts": 3, "retry_backoff": 0.2}})
    started = time.monotonic()
    with pytest.raises(StoreError, match="cannot reach S3") as caught:
        stack.hook.flowyml_artifact_store_save(key="k", write=lambda d: (d / "x").write_text("x"))
    assert caught.value.transient
    assert time.monotonic() - started >= 0.2 + 0.4  # two backoff delays: three attempts
