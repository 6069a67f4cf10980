"""flowyml-sagemaker passes the registry and deployer contract suites against a moto server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sm_helpers import deployer_config, registry_config, s3_store, sm_client

from flowyml.core.artifacts import Model
from flowyml.errors import DeploymentError
from flowyml.plugins.types import Deployment, ModelVersion
from flowyml.serialization.artifact_io import write_artifact
from flowyml.stacks.stack import Stack
from flowyml.testing import ModelDeployerContract, ModelRegistryContract


class TestSageMakerModelRegistry(ModelRegistryContract):
    @pytest.fixture
    def component_config(self) -> dict[str, Any]:
        return registry_config()

    @pytest.fixture
    def extra_components(self, s3_bucket: str) -> dict[str, Any]:
        return {"artifact_store": s3_store(s3_bucket)}


class TestSageMakerEndpointDeployer(ModelDeployerContract):
    @pytest.fixture
    def component_config(self) -> dict[str, Any]:
        return deployer_config()

    @pytest.fixture
    def extra_components(self, s3_bucket: str) -> dict[str, Any]:
        return {"artifact_store": s3_store(s3_bucket), "model_registry": registry_config()}

    @pytest.fixture
    def deployable_models(self, stack: Stack) -> tuple[ModelVersion, ModelVersion]:
        versions = []
        for i in (1, 2):
            manifest: dict[str, Any] = {}
            uri = stack.hook.flowyml_artifact_store_save(
                key=f"models/m{i}", write=lambda d, i=i: manifest.update(write_artifact(Model({"w": i}, name="clf"), Path(d)))
            )
            mv = ModelVersion(name="clf", version=f"{i}.0", uri=uri, framework="sklearn", content_hash=manifest["content_hash"], status="approved")
            versions.append(stack.hook.flowyml_model_registry_register(model=mv))
        return versions[0], versions[1]

    def check_serving(self, deployment: Deployment) -> None:
        sm = sm_client(_endpoint_url())
        endpoint = sm.describe_endpoint(EndpointName=deployment.endpoint_name)
        assert endpoint["EndpointStatus"] == "InService"
        assert endpoint["EndpointConfigName"] == deployment.details["endpoint_config"]
        config = sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
        model = sm.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
        assert model["PrimaryContainer"]["ModelPackageName"] == deployment.details["model_package"]
        assert deployment.url == f"https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/{deployment.endpoint_name}/invocations"

    @pytest.mark.xfail(
        raises=DeploymentError,
        strict=True,
        reason="moto 5.2.5 answers UpdateEndpoint (the redeploy) with HTTP 500 NotImplemented; the update path is "
        "covered against botocore's service model by test_sagemaker_recorded.py. Deploy, serving and undeploy "
        "run for real in test_deploy_serve_undeploy.",
    )
    def test_redeploy_replaces_the_served_version(self, stack: Stack, deployable_models: tuple[ModelVersion, ModelVersion], endpoint_name: str) -> None:
        super().test_redeploy_replaces_the_served_version(stack, deployable_models, endpoint_name)


_ENDPOINT: list[str] = []


@pytest.fixture(autouse=True)
def _remember_endpoint(aws_env: Any) -> None:
    _ENDPOINT[:] = [aws_env.endpoint_url]


def _endpoint_url() -> str:
    return _ENDPOINT[0]
