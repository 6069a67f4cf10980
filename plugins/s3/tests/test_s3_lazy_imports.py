"""Lazy loading: s3fs, boto3 and botocore are imported only when an s3 store is used."""

from __future__ import annotations

from pathlib import Path

from flowyml.testing import imported_modules

AWS = ("boto3", "botocore", "s3fs", "aiobotocore")
STACKS = {
    "local": {"orchestrator": {"type": "local"}, "artifact_store": {"type": "local", "path": "./artifacts"}},
    "aws": {"orchestrator": {"type": "local"}, "artifact_store": {"type": "s3", "bucket": "lazy-bucket"}, "artifact_routing": {"Dataset": {"store": "s3"}}},
}


def loaded_modules(project: Path, stack: str, *, run_pipeline: bool) -> set[str]:
    return imported_modules(project, STACKS, stack, run_pipeline=run_pipeline, prefixes=[*AWS, "flowyml_s3"])


def test_a_local_run_imports_no_aws_module(tmp_path: Path) -> None:
    assert loaded_modules(tmp_path, "local", run_pipeline=True) == set()


def test_building_an_s3_stack_imports_the_plugin_but_not_s3fs(tmp_path: Path) -> None:
    loaded = loaded_modules(tmp_path, "aws", run_pipeline=False)  # validates routing, builds the s3 store from its options
    assert "flowyml_s3.store" in loaded
    assert not [m for m in loaded if m.split(".")[0] in AWS]
    assert "flowyml_s3.filesystem" not in loaded and "flowyml_s3.errors" not in loaded
