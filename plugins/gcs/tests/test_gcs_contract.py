"""flowyml-gcs passes the artifact-store contract suite against the GCS emulator."""

from __future__ import annotations

from typing import Any

import pytest

from flowyml.testing import ArtifactStoreContract


class TestGcsArtifactStore(ArtifactStoreContract):
    """With an explicit ``endpoint_url`` and a prefix."""

    @pytest.fixture
    def component_config(self, gcs_store_config: dict[str, Any]) -> dict[str, Any]:
        return gcs_store_config

    @pytest.fixture
    def unusable_component_config(self, gcs_store_config: dict[str, Any]) -> dict[str, Any]:
        return {**gcs_store_config, "bucket": f"{gcs_store_config['bucket']}-never-created"}


class TestGcsArtifactStoreFromEnvironment(ArtifactStoreContract):
    """Only ``bucket`` in the YAML: the endpoint comes from ``STORAGE_EMULATOR_HOST`` (set by ``gcs_env``)."""

    @pytest.fixture
    def component_config(self, gcs_env: Any, gcs_bucket: str) -> dict[str, Any]:
        return {"type": "gcs", "bucket": gcs_bucket}

    @pytest.fixture
    def unusable_component_config(self, gcs_env: Any, gcs_bucket: str) -> dict[str, Any]:
        return {"type": "gcs", "bucket": f"{gcs_bucket}-never-created"}
