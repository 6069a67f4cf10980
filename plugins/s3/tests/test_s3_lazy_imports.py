"""Lazy loading: s3fs, boto3 and botocore are imported only when an s3 store is used."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

AWS_MODULES = ("boto3", "botocore", "s3fs", "aiobotocore", "flowyml_s3.filesystem")

LOCAL_RUN = """
import json, sys
from flowyml import Dataset, pipeline, step

@step
def make() -> Dataset:
    return Dataset({"x": [1, 2, 3]}, name="d")

@pipeline
def tiny():
    make()

run = tiny.run(stack="local")
assert run.success, run.error
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("boto3", "botocore", "s3fs", "aiobotocore", "flowyml_s3"))))
"""

BUILD_S3_STACK = """
import json, sys
from flowyml.runner.engine import prepare_stack
stack = prepare_stack("aws")  # validates routing, builds the s3 store from its options
print(stack.component(__import__("flowyml.plugins.kinds", fromlist=["Kind"]).Kind.ARTIFACT_STORE).describe())
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("boto3", "botocore", "s3fs", "aiobotocore", "flowyml_s3"))))
"""


def run_python(code: str, cwd: Path) -> list[str]:
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def write_config(project: Path) -> None:
    stacks = {
        "local": {"orchestrator": {"type": "local"}, "artifact_store": {"type": "local", "path": "./artifacts"}},
        "aws": {"orchestrator": {"type": "local"}, "artifact_store": {"type": "s3", "bucket": "lazy-bucket"}, "artifact_routing": {"Dataset": {"store": "s3"}}},
    }
    (project / "flowyml.yaml").write_text(yaml.safe_dump({"stacks": stacks, "active_stack": "local"}))


def test_a_local_run_imports_no_aws_module(tmp_path: Path) -> None:
    write_config(tmp_path)
    assert run_python(LOCAL_RUN, tmp_path) == []


def test_building_an_s3_stack_imports_the_plugin_but_not_s3fs(tmp_path: Path) -> None:
    write_config(tmp_path)
    loaded = run_python(BUILD_S3_STACK, tmp_path)
    assert "flowyml_s3.store" in loaded
    assert not [m for m in loaded if m.split(".")[0] in ("boto3", "botocore", "s3fs", "aiobotocore")]
    assert "flowyml_s3.filesystem" not in loaded and "flowyml_s3.errors" not in loaded
