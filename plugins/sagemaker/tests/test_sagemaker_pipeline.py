"""End to end: the spec's aws-staging stack (s3 store, SageMaker registry and endpoint) for each deploy condition."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from sm_helpers import IMAGE, aws_staging, sm_client
from support import SUPPORT

import flowyml
from flowyml.models import approve_model, deploy_model, undeploy_model
from flowyml.testing import load_pipeline
from standins.aws import boto3_client

ENDPOINT = "fraud-prod"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    shutil.copy(SUPPORT / "aws_spec_pipelines.py", folder / "pipelines.py")
    monkeypatch.chdir(folder)
    return folder


def run_with(project: Path, bucket: str, rule: dict[str, Any]) -> Any:
    stacks = {"aws-staging": aws_staging(bucket, {"register": True, **rule})}
    (project / "flowyml.yaml").write_text(yaml.safe_dump({"stacks": stacks}, sort_keys=False))
    run = load_pipeline(project, "spec_pipeline").run(stack="aws-staging")
    assert run.status == "completed", run.error
    return run


def the_package(endpoint_url: str) -> dict[str, Any]:
    sm = sm_client(endpoint_url)
    group = sm.describe_model_package_group(ModelPackageGroupName="fraud-detector")
    assert group["ModelPackageGroupName"] == "fraud-detector"
    summaries = sm.list_model_packages(ModelPackageGroupName="fraud-detector")["ModelPackageSummaryList"]
    assert len(summaries) == 1
    return sm.describe_model_package(ModelPackageName=summaries[0]["ModelPackageArn"])


def assert_registered(package: dict[str, Any], run: Any, bucket: str, endpoint_url: str, approval: str) -> None:
    model = run.artifact("train_model")
    assert package["ModelApprovalStatus"] == approval
    assert package["ModelPackageVersion"] == 1
    container = package["InferenceSpecification"]["Containers"][0]
    assert container["Image"] == IMAGE and container["ModelDataUrl"] == model.uri
    props = package["CustomerMetadataProperties"]
    assert props["flowyml.model_name"] == "fraud_detector" and props["flowyml.version"] == "1.0.0"
    assert props["flowyml.framework"] == "sklearn" and props["flowyml.run_id"] == run.run_id
    assert props["flowyml.flowyml_version"] == flowyml.__version__ and props["flowyml.content_hash"] == model.content_hash
    accuracy = run.load("evaluate").data["accuracy"]
    assert float(props["metric.accuracy"]) == pytest.approx(accuracy)
    report_uri = package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    assert report_uri == f"{model.uri}.sagemaker-metrics.json"
    key = report_uri.removeprefix(f"s3://{bucket}/")
    report = json.loads(boto3_client("s3", endpoint_url).get_object(Bucket=bucket, Key=key)["Body"].read())
    assert report["metrics"]["accuracy"]["value"] == pytest.approx(accuracy)


def assert_serving(endpoint_url: str, package_arn: str) -> None:
    sm = sm_client(endpoint_url)
    endpoint = sm.describe_endpoint(EndpointName=ENDPOINT)
    assert endpoint["EndpointStatus"] == "InService"
    config = sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    variant = config["ProductionVariants"][0]
    assert (variant["InstanceType"], variant["InitialInstanceCount"]) == ("ml.m5.large", 1)
    model = sm.describe_model(ModelName=variant["ModelName"])
    assert model["PrimaryContainer"]["ModelPackageName"] == package_arn
    assert model["ExecutionRoleArn"].endswith(":role/flowyml-sagemaker")


def assert_not_serving(endpoint_url: str) -> None:
    sm = sm_client(endpoint_url)
    assert sm.list_endpoints()["Endpoints"] == []
    assert sm.list_endpoint_configs()["EndpointConfigs"] == []
    assert sm.list_models()["Models"] == []


def test_manual_registers_pending_and_deploys_on_command(project: Path, s3_bucket: str, aws_env: Any) -> None:
    run = run_with(project, s3_bucket, {"deploy": True, "deploy_condition": "manual", "endpoint_name": ENDPOINT})
    package = the_package(aws_env.endpoint_url)
    assert_registered(package, run, s3_bucket, aws_env.endpoint_url, "PendingManualApproval")
    assert_not_serving(aws_env.endpoint_url)
    # flowyml model deploy fraud_detector --version 1.0.0
    deployment = deploy_model("fraud_detector", "1.0.0", stack="aws-staging")
    assert deployment.endpoint_name == ENDPOINT and deployment.model_version == "1.0.0"
    assert_serving(aws_env.endpoint_url, package["ModelPackageArn"])
    # flowyml model undeploy: everything it created goes
    assert undeploy_model(ENDPOINT, stack="aws-staging") is True
    assert_not_serving(aws_env.endpoint_url)
    assert undeploy_model(ENDPOINT, stack="aws-staging") is False


def test_auto_with_metrics_met_approves_and_deploys(project: Path, s3_bucket: str, aws_env: Any) -> None:
    run = run_with(project, s3_bucket, {"deploy": True, "deploy_condition": "auto", "deploy_min_metrics": {"accuracy": 0.5}, "endpoint_name": ENDPOINT})
    package = the_package(aws_env.endpoint_url)
    assert_registered(package, run, s3_bucket, aws_env.endpoint_url, "Approved")
    assert_serving(aws_env.endpoint_url, package["ModelPackageArn"])
    assert any(e.action == "deploy" and e.status == "ok" and ENDPOINT in e.detail for e in run.events)


def test_auto_with_metrics_not_met_registers_without_deploying(project: Path, s3_bucket: str, aws_env: Any) -> None:
    run = run_with(project, s3_bucket, {"deploy": True, "deploy_condition": "auto", "deploy_min_metrics": {"accuracy": 0.9999}, "endpoint_name": ENDPOINT})
    package = the_package(aws_env.endpoint_url)
    assert_registered(package, run, s3_bucket, aws_env.endpoint_url, "PendingManualApproval")
    assert package["CustomerMetadataProperties"]["flowyml.status"] == "registered"
    assert_not_serving(aws_env.endpoint_url)
    assert any(e.action == "decision" and "accuracy" in e.detail for e in run.decisions)


def test_on_approval_waits_for_approve_then_deploys(project: Path, s3_bucket: str, aws_env: Any) -> None:
    run = run_with(project, s3_bucket, {"deploy": True, "deploy_condition": "on_approval", "endpoint_name": ENDPOINT})
    package = the_package(aws_env.endpoint_url)
    assert_registered(package, run, s3_bucket, aws_env.endpoint_url, "PendingManualApproval")
    assert package["CustomerMetadataProperties"]["flowyml.status"] == "pending_approval"
    assert_not_serving(aws_env.endpoint_url)
    # flowyml model approve fraud_detector --version 1.0.0
    approved, deployment = approve_model("fraud_detector", "1.0.0", stack="aws-staging")
    assert approved.status == "approved" and deployment is not None
    assert the_package(aws_env.endpoint_url)["ModelApprovalStatus"] == "Approved"
    assert_serving(aws_env.endpoint_url, package["ModelPackageArn"])


def test_register_only_spec_rule(project: Path, s3_bucket: str, aws_env: Any) -> None:
    """The spec's own aws-staging rule: ``Model: { store: s3, register: true }``."""
    run = run_with(project, s3_bucket, {})
    assert_registered(the_package(aws_env.endpoint_url), run, s3_bucket, aws_env.endpoint_url, "PendingManualApproval")
    assert_not_serving(aws_env.endpoint_url)


def test_registry_without_an_image_is_a_clear_route_error(project: Path, s3_bucket: str, aws_env: Any) -> None:
    stacks = {"aws-staging": aws_staging(s3_bucket, {"register": True})}
    del stacks["aws-staging"]["model_registry"]["image_uri"]
    (project / "flowyml.yaml").write_text(yaml.safe_dump({"stacks": stacks}, sort_keys=False))
    run = load_pipeline(project, "spec_pipeline").run(stack="aws-staging")
    assert run.status == "failed"
    failure = next(e for e in run.events if e.action == "register" and e.status == "failed")
    assert "no inference image for model 'fraud_detector'" in failure.detail and "image_uri" in failure.detail
