"""Installing flowyml-gcs costs nothing on stacks that do not use it."""

from __future__ import annotations

from pathlib import Path

from flowyml.testing import imported_modules

HEAVY = ["gcsfs", "google.cloud.storage", "google.cloud.aiplatform"]
LOCAL = {"orchestrator": {"type": "local"}, "artifact_store": {"type": "local"}}


def test_local_stack_imports_no_google_library(tmp_path: Path) -> None:
    assert imported_modules(tmp_path, {"local": LOCAL}, "local", run_pipeline=True, prefixes=HEAVY) == set()


def test_building_a_gcs_stack_defers_gcsfs_until_first_use(tmp_path: Path) -> None:
    stacks = {"gcs": {"orchestrator": {"type": "local"}, "artifact_store": {"type": "gcs", "bucket": "some-bucket"}}}
    assert imported_modules(tmp_path, stacks, "gcs", run_pipeline=False, prefixes=HEAVY) == set()
