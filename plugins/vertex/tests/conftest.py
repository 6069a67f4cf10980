"""Fixtures for flowyml-vertex tests: the Vertex AI fake plus the GCS emulator.

``vertex_env`` (tests/standins/vertex_fake.py) initialises the real SDK
against the fake; ``gcs_env`` / ``gcs_bucket`` (tests/standins/gcs.py) give a
bucket in the GCS emulator where models are stored, as Vertex needs gs:// URIs.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip(
    "google.cloud.aiplatform", reason="google-cloud-aiplatform is installed by the plugin-vertex nox session (requirements/plugin-vertex.txt)"
)
pytest.importorskip("gcsfs", reason="gcsfs (for the GCS emulator) is installed by the plugin-vertex nox session (requirements/plugin-vertex.txt)")


@pytest.fixture
def gcp(gcs_env: Any, gcs_bucket: str, vertex_env: Any) -> dict[str, Any]:
    """Both stand-ins ready; vertex_env is set up last so STORAGE_EMULATOR_HOST is the fake's."""
    return {"fake": vertex_env, "gcs": gcs_env, "bucket": gcs_bucket}


@pytest.fixture
def gcs_store(gcp: dict[str, Any]) -> dict[str, Any]:
    return {"type": "gcs", "bucket": gcp["bucket"], "endpoint_url": gcp["gcs"].endpoint_url}
