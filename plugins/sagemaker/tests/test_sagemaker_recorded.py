"""Redeploying to an existing endpoint (UpdateEndpoint), with recorded SageMaker answers.

moto 5.2.5 answers ``UpdateEndpoint`` with HTTP 500 NotImplemented, so this
path cannot run against the stand-in. It runs here against botocore's
``Stubber``: every request the deployer sends is validated against botocore's
SageMaker service model (operation, parameter names, types, required fields)
and checked against the expected parameters, and answered with a recorded
response of the documented shape. This is the only place the tests use the
Stubber. (The plugin never calls ``DeleteModelPackage``/``DeleteModelPackageGroup``:
undeploy removes the endpoint, endpoint config and model it created; registered
versions stay in the registry.)
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import ANY, Stubber
from sm_helpers import ROLE, deployer_config

from flowyml.errors import DeploymentError
from flowyml.plugins.kinds import Kind
from flowyml.plugins.types import ModelVersion
from flowyml.testing import make_stack

ACCOUNT = "123456789012"
ARN = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}"
PACKAGE = f"{ARN}:model-package/clf/2"
NOW = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
SUFFIX = "20261126120000"
NEW = f"prod-2-0-{SUFFIX}"  # the new model's and endpoint config's name


def endpoint(status: str, config: str, reason: str | None = None) -> dict[str, Any]:
    answer = {"EndpointName": "prod", "EndpointArn": f"{ARN}:endpoint/prod", "EndpointConfigName": config,
              "EndpointStatus": status, "CreationTime": NOW, "LastModifiedTime": NOW}
    return {**answer, "FailureReason": reason} if reason else answer


@pytest.fixture
def deployer(tmp_path: Path) -> Any:
    import boto3

    stack = make_stack(tmp_path, {"model_deployer": deployer_config(region="us-east-1")})
    component = stack.component(Kind.MODEL_DEPLOYER)
    component._client = boto3.client("sagemaker", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    component.name_suffix = lambda: SUFFIX
    return component


def model() -> ModelVersion:
    return ModelVersion(name="clf", version="2.0", uri="s3://b/ml/r/datasets/train", registry_id=PACKAGE, status="approved")


def record_update_start(stub: Stubber) -> None:
    stub.add_response("create_model", {"ModelArn": f"{ARN}:model/{NEW}"},
                      {"ModelName": NEW, "ExecutionRoleArn": ROLE, "PrimaryContainer": {"ModelPackageName": PACKAGE}, "Tags": ANY})
    stub.add_response("create_endpoint_config", {"EndpointConfigArn": f"{ARN}:endpoint-config/{NEW}"}, {
        "EndpointConfigName": NEW,
        "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": NEW, "InitialInstanceCount": 1,
                                "InstanceType": "ml.m5.large", "InitialVariantWeight": 1.0}],
        "Tags": ANY,
    })
    stub.add_response("describe_endpoint", endpoint("InService", "old-config"), {"EndpointName": "prod"})
    stub.add_response("update_endpoint", {"EndpointArn": f"{ARN}:endpoint/prod"}, {"EndpointName": "prod", "EndpointConfigName": NEW})
    stub.add_response("describe_endpoint", endpoint("Updating", "old-config"), {"EndpointName": "prod"})


def test_redeploy_updates_the_endpoint_then_removes_the_old_config_and_model(deployer: Any) -> None:
    with Stubber(deployer._client) as stub:
        record_update_start(stub)
        stub.add_response("describe_endpoint", endpoint("InService", NEW), {"EndpointName": "prod"})
        stub.add_response("add_tags", {"Tags": []}, {"ResourceArn": f"{ARN}:endpoint/prod", "Tags": ANY})
        stub.add_response("describe_endpoint_config", {
            "EndpointConfigName": "old-config", "EndpointConfigArn": f"{ARN}:endpoint-config/old-config", "CreationTime": NOW,
            "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "old-model", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
        }, {"EndpointConfigName": "old-config"})
        stub.add_response("delete_endpoint_config", {}, {"EndpointConfigName": "old-config"})
        stub.add_response("delete_model", {}, {"ModelName": "old-model"})
        deployment = deployer.flowyml_model_deployer_deploy(model=model(), endpoint_name="prod", config={})
        stub.assert_no_pending_responses()
    assert (deployment.endpoint_name, deployment.model_version, deployment.status) == ("prod", "2.0", "serving")
    assert deployment.backend_status == "InService"
    assert deployment.details["endpoint_config"] == NEW


def test_a_rolled_back_update_reports_sagemakers_reason_and_cleans_up(deployer: Any) -> None:
    with Stubber(deployer._client) as stub:
        record_update_start(stub)
        # SageMaker rolls a failed update back: InService again, on the old config, with the reason
        stub.add_response("describe_endpoint", endpoint("InService", "old-config", "The primary container for production variant AllTraffic did not pass the ping health check."), {"EndpointName": "prod"})
        stub.add_response("delete_endpoint_config", {}, {"EndpointConfigName": NEW})
        stub.add_response("delete_model", {}, {"ModelName": NEW})
        with pytest.raises(DeploymentError, match="rolled back to old-config: The primary container .* ping health check") as caught:
            deployer.flowyml_model_deployer_deploy(model=model(), endpoint_name="prod", config={})
        stub.assert_no_pending_responses()
    assert "previous version keeps serving" in (caught.value.hint or "")


def test_a_failed_endpoint_reports_sagemakers_failure_reason(deployer: Any) -> None:
    with Stubber(deployer._client) as stub:
        stub.add_response("create_model", {"ModelArn": f"{ARN}:model/{NEW}"}, {"ModelName": NEW, "ExecutionRoleArn": ROLE, "PrimaryContainer": ANY, "Tags": ANY})
        stub.add_response("create_endpoint_config", {"EndpointConfigArn": f"{ARN}:endpoint-config/{NEW}"}, {"EndpointConfigName": NEW, "ProductionVariants": ANY, "Tags": ANY})
        stub.add_client_error("describe_endpoint", "ValidationException", "Could not find endpoint \"prod\".", 400, expected_params={"EndpointName": "prod"})
        stub.add_response("create_endpoint", {"EndpointArn": f"{ARN}:endpoint/prod"}, {"EndpointName": "prod", "EndpointConfigName": NEW, "Tags": ANY})
        stub.add_response("describe_endpoint", endpoint("Creating", NEW), {"EndpointName": "prod"})
        stub.add_response("describe_endpoint", endpoint("Failed", NEW, "Image 123.dkr.ecr/x:1 does not exist"), {"EndpointName": "prod"})
        stub.add_response("delete_endpoint", {}, {"EndpointName": "prod"})  # the endpoint it created never came up
        stub.add_response("delete_endpoint_config", {}, {"EndpointConfigName": NEW})
        stub.add_response("delete_model", {}, {"ModelName": NEW})
        with pytest.raises(DeploymentError, match="endpoint prod is Failed: Image 123.dkr.ecr/x:1 does not exist"):
            deployer.flowyml_model_deployer_deploy(model=model(), endpoint_name="prod", config={})
        stub.assert_no_pending_responses()
