"""Helpers of the flowyml-s3 tests: a project folder whose flowyml.yaml has an s3 stack on moto."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support import SUPPORT

from flowyml.testing import make_project

ROUTE = "{run_id}/datasets/{step_name}"


def s3_stack(bucket: str, **options: Any) -> dict[str, Any]:
    """A stack whose artifact store is s3, with Model and Dataset routed there by the spec's path template."""
    return {
        "orchestrator": {"type": "local", "max_parallel_steps": 1},
        "artifact_store": {"type": "s3", "bucket": bucket, "prefix": "ml", "max_attempts": 2, "retry_backoff": 0.05, **options},
        "artifact_routing": {
            "Model": {"store": "s3", "path": ROUTE},
            "Dataset": {"store": "s3", "path": ROUTE},
        },
    }


@pytest.fixture
def s3_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """``s3_project(stacks)`` writes flowyml.yaml and the spec pipeline into a project folder and enters it."""

    def make(stacks: dict[str, Any]) -> Path:
        project = make_project(tmp_path / "project", stacks, SUPPORT / "aws_spec_pipelines.py")
        monkeypatch.chdir(project)
        return project

    return make
