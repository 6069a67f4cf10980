"""Options as users write them: validation errors name the YAML path and line; describe()."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flowyml.errors import ConfigError
from flowyml.plugins.kinds import Kind
from flowyml.testing import make_stack


def test_unknown_option_names_yaml_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        make_stack(tmp_path, {"artifact_store": {"type": "gcs", "bucket": "b-1", "bucket_name": "x"}})
    text = str(caught.value)
    assert "stacks.contract.artifact_store.bucket_name" in text and "flowyml.yaml:" in text
    assert "bucket: str (required)" in text  # the hint lists the options


@pytest.mark.parametrize(
    ("bucket", "why"),
    [("gs://my-bucket", "bare bucket name"), ("my-bucket/sub", "bare bucket name"), ("My_Bucket", "not a valid GCS bucket name")],
)
def test_bad_bucket_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bucket: str, why: str) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=why) as caught:
        make_stack(tmp_path, {"artifact_store": {"type": "gcs", "bucket": bucket}})
    assert caught.value.path == "stacks.contract.artifact_store.bucket"
    assert caught.value.line and "flowyml.yaml:" in str(caught.value)  # the YAML line (was lost)


def test_missing_bucket_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="bucket"):
        make_stack(tmp_path, {"artifact_store": {"type": "gcs"}})


def test_describe_and_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gcs_env: Any) -> None:
    monkeypatch.chdir(tmp_path)
    stack = make_stack(tmp_path, {"artifact_store": {"type": "gcs", "bucket": "b-1", "prefix": "/team/ml/"}})
    store = stack.component(Kind.ARTIFACT_STORE)
    assert store.describe() == f"Google Cloud Storage gs://b-1/team/ml via {gcs_env.endpoint_url}"
    assert stack.hook.flowyml_artifact_store_uri(key="r1/datasets/s") == "gs://b-1/team/ml/r1/datasets/s"
    # gcs:// URIs (gcsfs' other spelling) are accepted for loading
    assert store.path_of_uri("gcs://b-1/team/ml/r1/x") == "b-1/team/ml/r1/x"
