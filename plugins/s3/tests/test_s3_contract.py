"""flowyml-s3 passes the artifact-store contract suite against a real moto S3 server."""

from __future__ import annotations

from typing import Any

import pytest

from flowyml.testing import ArtifactStoreContract


class TestS3ArtifactStore(ArtifactStoreContract):
    @pytest.fixture
    def component_config(self, s3_bucket: str) -> dict[str, Any]:
        return {"type": "s3", "bucket": s3_bucket, "prefix": "contract/root", "max_attempts": 2, "retry_backoff": 0.05}

    @pytest.fixture
    def unusable_component_config(self, s3_bucket: str) -> dict[str, Any]:
        return {"type": "s3", "bucket": f"{s3_bucket}-never-created", "max_attempts": 1}


class TestS3ArtifactStoreWithoutPrefix(ArtifactStoreContract):
    @pytest.fixture
    def component_config(self, s3_bucket: str, aws_env: Any) -> dict[str, Any]:
        # endpoint given explicitly instead of through AWS_ENDPOINT_URL
        return {"type": "s3", "bucket": s3_bucket, "endpoint_url": aws_env.endpoint_url, "region": "us-east-1"}

    @pytest.fixture
    def unusable_component_config(self, s3_bucket: str, aws_env: Any) -> dict[str, Any]:
        return {"type": "s3", "bucket": f"{s3_bucket}-never-created", "endpoint_url": aws_env.endpoint_url, "region": "us-east-1", "max_attempts": 1}
