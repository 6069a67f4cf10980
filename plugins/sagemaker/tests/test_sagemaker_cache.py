"""Remote steps answered from the cache before SageMaker starts a processing job for them.

As in the contract test, moto stores the pipeline and starts an execution but
runs no step: right after submitting, the test plays SageMaker's part and
runs each step of the submitted definition in a fresh ``flowyml step run``
process. The definition holds only the steps that must run; their
containers record their results in the S3 store's cache index, where a
second checkout of the project (another folder, an empty metadata store)
finds them.
"""

from __future__ import annotations

import linecache
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from sm_helpers import ROLE, STEP_IMAGE, s3_store, sm_client
from support import SUPPORT
from support.cache_pipelines import STEPS, change_double
from test_sagemaker_orchestrator import flowyml_command
from test_sagemaker_orchestrator_contract import run_steps_like_sagemaker

from flowyml.metadata.store import MetadataStore
from flowyml.runner.cache_index import entry_key
from flowyml.testing import load_pipeline, make_project
from flowyml_sagemaker.orchestrator import SageMakerOrchestrator
from standins.aws import boto3_client

STACK = "sm"
ORCHESTRATOR = {"type": "sagemaker", "role_arn": ROLE, "image_uri": STEP_IMAGE, "poll_interval": 0.05, "timeout_seconds": 30, "max_attempts": 1}
pytestmark = pytest.mark.slow


@pytest.fixture
def submitted(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The steps of each submitted definition, run as SageMaker would right after submission."""
    definitions: list[list[str]] = []
    submit = SageMakerOrchestrator.submit

    def submit_and_run_the_steps(orchestrator: SageMakerOrchestrator, run: Any) -> tuple[str, dict[str, Any]]:
        arn, definition = submit(orchestrator, run)
        definitions.append([s["Name"] for s in definition["Steps"]])
        codes = run_steps_like_sagemaker(definition, Path.cwd())
        assert set(codes.values()) == {0}, codes
        return arn, definition

    monkeypatch.setattr(SageMakerOrchestrator, "submit", submit_and_run_the_steps)
    return definitions


def checkout(folder: Path, bucket: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    make_project(folder, {STACK: {"orchestrator": ORCHESTRATOR, "artifact_store": s3_store(bucket)}}, SUPPORT / "cache_pipelines.py")
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, s3_bucket: str, aws_env: Any) -> Path:
    return checkout(tmp_path / "checkout-1", s3_bucket, monkeypatch)


def run_on_sagemaker(folder: Path, submitted: list[list[str]], *, cache: bool = True) -> tuple[Any, list[str] | None]:
    """Run the pipeline; return the run and the steps of the definition it submitted (None: nothing was submitted)."""
    for name in [n for n in sys.modules if n.startswith("flowyml_target_pipelines_")]:
        del sys.modules[name]  # pipelines.py as it is now (a test edits it)
    linecache.checkcache()
    before = len(submitted)
    run = load_pipeline(folder, "cache_pipeline").run(stack=STACK, cache=cache)
    assert run.success, run.error
    return run, (sorted(submitted[-1]) if len(submitted) > before else None)


def statuses(run: Any) -> dict[str, str]:
    return {name: step.status for name, step in run.steps.items()}


def recorded(folder: Path, run_id: str) -> dict[str, tuple[str, str | None]]:
    return {r["step_name"]: (r["status"], r["cached_from"]) for r in MetadataStore.for_project(folder).steps_of(run_id)}


def executions(endpoint: str) -> int:
    """Pipeline executions started in SageMaker, over every pipeline."""
    sm = sm_client(endpoint)
    names = [p["PipelineName"] for p in sm.list_pipelines()["PipelineSummaries"]]
    return sum(len(sm.list_pipeline_executions(PipelineName=n)["PipelineExecutionSummaries"]) for n in names)


def test_an_identical_run_and_a_second_checkout_start_no_execution(project: Path, submitted: list[list[str]], s3_bucket: str,
                                                                   aws_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, steps = run_on_sagemaker(project, submitted)
    assert steps == sorted(STEPS) and set(statuses(first).values()) == {"completed"}
    assert executions(aws_env.endpoint_url) == 1
    s3 = boto3_client("s3", aws_env.endpoint_url)
    for row in MetadataStore.for_project(project).steps_of(first.run_id):  # each container wrote its index entry
        s3.head_object(Bucket=s3_bucket, Key=f"ml/{entry_key(row['cache_key'])}/flowyml.json")

    again, steps = run_on_sagemaker(project, submitted)
    assert steps is None and executions(aws_env.endpoint_url) == 1  # no processing job, no execution
    assert recorded(project, again.run_id) == dict.fromkeys(STEPS, ("cached", first.run_id))
    assert again.load("total").data == {"total": 90.0}
    # an orchestrator that launches a container for an answered step anyway: the container does nothing and succeeds
    snapshot = f"s3://{s3_bucket}/ml/.flowyml-runs/{again.run_id}/snapshot"
    proc = subprocess.run(flowyml_command(["flowyml", "step", "run", "--stack", STACK, "--snapshot", snapshot, "--step", "total"]),
                          cwd=project, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0 and "answered from the cache" in proc.stderr, proc.stderr
    assert recorded(project, again.run_id)["total"] == ("cached", first.run_id)

    second = checkout(tmp_path / "checkout-2", s3_bucket, monkeypatch)
    other, steps = run_on_sagemaker(second, submitted)
    assert steps is None and recorded(second, other.run_id) == dict.fromkeys(STEPS, ("cached", first.run_id))

    fresh, steps = run_on_sagemaker(second, submitted, cache=False)
    assert steps == sorted(STEPS) and set(statuses(fresh).values()) == {"completed"}


def test_changed_code_and_broken_artifacts_submit_only_what_must_run(project: Path, submitted: list[list[str]], s3_bucket: str, aws_env: Any) -> None:
    first, _ = run_on_sagemaker(project, submitted)

    change_double(str(project / "pipelines.py"))
    edited, steps = run_on_sagemaker(project, submitted)
    assert steps == ["double", "total"]
    assert statuses(edited) == {"source": "cached", "double": "completed", "total": "cached", "side": "cached"}
    assert recorded(project, edited.run_id)["total"] == ("cached", first.run_id)  # found by its container

    s3 = boto3_client("s3", aws_env.endpoint_url)
    prefix = first.artifact("source").uri.removeprefix(f"s3://{s3_bucket}/")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=s3_bucket, Prefix=prefix + "/")["Contents"]]
    # its data file, or the one object of a packed artifact (flowyml.stores.packed: the data ends it)
    (data,) = [key for key in keys if not key.endswith("flowyml.json")] or keys
    body = s3.get_object(Bucket=s3_bucket, Key=data)["Body"].read()
    s3.put_object(Bucket=s3_bucket, Key=data, Body=body[:-1] + bytes([body[-1] ^ 1]))  # same size, one byte changed
    tampered, steps = run_on_sagemaker(project, submitted)
    assert steps == sorted(STEPS) and statuses(tampered)["source"] == "completed"

    side = tampered.artifact("side").uri.removeprefix(f"s3://{s3_bucket}/")
    for obj in s3.list_objects_v2(Bucket=s3_bucket, Prefix=side + "/")["Contents"]:
        s3.delete_object(Bucket=s3_bucket, Key=obj["Key"])
    deleted, steps = run_on_sagemaker(project, submitted)
    assert steps == ["side"]
    assert statuses(deleted) == {"source": "cached", "double": "cached", "total": "cached", "side": "completed"}


def test_a_checkout_sharing_the_metadata_database_hits_another_checkouts_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                              s3_bucket: str, aws_env: Any, submitted: list[list[str]],
                                                                              postgres_url: str) -> None:
    """Checkout 1 runs the pipeline in-process (local orchestrator, same S3 store): no container, so no cache index entry;
    checkout 2 finds every step in the shared PostgreSQL metadata database and starts no SageMaker execution."""
    pytest.importorskip("flowyml.config.metadata_setting", reason="the project-level metadata: setting (shared metadata, #14) is not in this checkout")
    store = s3_store(s3_bucket)
    shared = {"metadata": {"url": postgres_url}}
    one = make_project(tmp_path / "checkout-1", {"laptop": {"orchestrator": {"type": "local"}, "artifact_store": store}}, SUPPORT / "cache_pipelines.py")
    two = make_project(tmp_path / "checkout-2", {STACK: {"orchestrator": ORCHESTRATOR, "artifact_store": store}}, SUPPORT / "cache_pipelines.py")
    for folder in (one, two):
        config = folder / "flowyml.yaml"
        config.write_text(config.read_text() + yaml.safe_dump(shared), encoding="utf-8")
    monkeypatch.chdir(one)
    first = load_pipeline(one, "cache_pipeline").run(stack="laptop")
    assert first.success, first.error
    s3 = boto3_client("s3", aws_env.endpoint_url)
    assert "Contents" not in s3.list_objects_v2(Bucket=s3_bucket, Prefix="ml/.flowyml-cache/")  # the index does not know it

    monkeypatch.chdir(two)
    other, steps = run_on_sagemaker(two, submitted)
    assert steps is None and executions(aws_env.endpoint_url) == 0
    assert recorded(two, other.run_id) == dict.fromkeys(STEPS, ("cached", first.run_id))
