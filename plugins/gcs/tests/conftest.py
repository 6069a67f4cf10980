"""Fixtures for flowyml-gcs tests: a stack config pointing at the GCS emulator.

The emulator itself comes from ``tests/standins/gcs.py`` (loaded by the
repository's root conftest): ``gcs_env`` points clients at it and
``gcs_bucket`` creates a fresh bucket.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("gcsfs", reason="gcsfs is installed by the plugin-gcs nox session (requirements/plugin-gcs.txt)")
pytest.importorskip(
    "gcp_storage_emulator", reason="the GCS emulator is installed by the plugin-gcs nox session (requirements/plugin-gcs.txt)"
)


@pytest.fixture
def gcs_store_config(gcs_env: Any, gcs_bucket: str) -> dict[str, Any]:
    """``artifact_store`` mapping of a gcs store on a fresh emulator bucket."""
    return {"type": "gcs", "bucket": gcs_bucket, "prefix": "flowyml", "endpoint_url": gcs_env.endpoint_url}
