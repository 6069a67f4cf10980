"""The registry and the deployer pass the contract suites against the Vertex AI fake."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flowyml.core.artifacts import Model
from flowyml.plugins.types import Deployment, ModelVersion
from flowyml.serialization.artifact_io import write_artifact
from flowyml.stacks.stack import Stack
from flowyml.testing import ModelDeployerContract, ModelRegistryContract


class TestVertexModelRegistry(ModelRegistryContract):
    @pytest.fixture
    def component_config(self, gcp: dict[str, Any]) -> dict[str, Any]:
        return {"type": "vertex_model_registry"}

    @pytest.fixture
    def extra_components(self, gcs_store: dict[str, Any]) -> dict[str, Any]:
        return {"artifact_store": gcs_store}


class TestVertexEndpointDeployer(ModelDeployerContract):
    @pytest.fixture
    def component_config(self, gcp: dict[str, Any]) -> dict[str, Any]:
        gcp["fake"].set_predictions(lambda endpoint, rows, params: [endpoint["deployedModels"][-1]["displayName"]] * len(rows))
        return {"type": "vertex_endpoint", "machine_type": "n1-standard-4", "timeout": 60}

    @pytest.fixture
    def extra_components(self, gcs_store: dict[str, Any]) -> dict[str, Any]:
        return {"artifact_store": gcs_store, "model_registry": {"type": "vertex_model_registry"}}

    @pytest.fixture
    def deployable_models(self, stack: Stack) -> tuple[ModelVersion, ModelVersion]:
        versions = []
        for i in (1, 2):
            manifest: dict[str, Any] = {}
            uri = stack.hook.flowyml_artifact_store_save(
                key=f"models/clf-{i}", write=lambda d, i=i: manifest.update(write_artifact(Model({"w": i}), Path(d)))
            )
            version = ModelVersion(name="clf", version=f"{i}.0", uri=uri, framework="sklearn", content_hash=manifest["content_hash"])
            versions.append(stack.hook.flowyml_model_registry_register(model=version))
        return versions[0], versions[1]

    def check_serving(self, deployment: Deployment) -> None:
        from google.cloud import aiplatform

        endpoint = aiplatform.Endpoint(deployment.details["endpoint"])
        answer = endpoint.predict(instances=[[1.0]])
        assert answer.predictions == [f"clf:{deployment.model_version}"]
        assert deployment.url and deployment.url.endswith(f"{deployment.details['endpoint']}:predict")
