"""Option checks of the s3 store: each names the option and the fix; s3fs gets what the options say."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowyml.errors import ConfigError
from flowyml.testing import make_stack


@pytest.mark.parametrize(
    ("options", "message", "fix"),
    [
        ({"bucket": "s3://b-1/some/path"}, "bucket must be a bare bucket name", "`bucket: b-1` and `prefix: some/path`"),
        ({"bucket": "Bad_Bucket"}, "not a valid S3 bucket name", "lowercase"),
        ({"bucket": "b-1", "server_side_encryption": "rot13"}, "unknown server_side_encryption", "AES256"),
        ({"bucket": "b-1", "kms_key_id": "alias/k"}, "kms_key_id is set", "aws:kms"),
        ({"bucket": "b-1", "multipart_chunk_mb": 2}, "between 5 and 5120", "5 MiB"),
        ({"bucket": "b-1", "max_concurrency": 0}, "max_concurrency must be positive", "above 0"),
    ],
)
def test_bad_options_name_the_option_and_the_fix(tmp_path: Path, options: dict, message: str, fix: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        make_stack(tmp_path, {"artifact_store": {"type": "s3", **options}})
    option = next(k for k in options if k != "bucket") if len(options) > 1 else "bucket"
    assert f"stacks.contract.artifact_store.{option}" in str(caught.value)
    assert fix in (caught.value.hint or "")


def test_missing_bucket_option_is_reported_by_the_core(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="bucket"):
        make_stack(tmp_path, {"artifact_store": {"type": "s3", "prefix": "x"}})


def test_s3fs_settings_follow_the_options() -> None:
    from flowyml_s3.filesystem import s3fs_kwargs
    from flowyml_s3.options import S3ArtifactStoreOptions

    kwargs = s3fs_kwargs(S3ArtifactStoreOptions(
        bucket="b-1", region="eu-west-1", endpoint_url="http://127.0.0.1:9000", profile="dev", server_side_encryption="aws:kms",
        kms_key_id="alias/k", storage_class="STANDARD_IA", requester_pays=True, path_style=True, verify_tls=False,
        multipart_chunk_mb=16, max_concurrency=3,
    ))
    assert kwargs["s3_additional_kwargs"] == {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/k", "StorageClass": "STANDARD_IA"}
    assert kwargs["client_kwargs"] == {"region_name": "eu-west-1", "verify": False}
    assert kwargs["config_kwargs"]["s3"] == {"addressing_style": "path"}
    assert (kwargs["profile"], kwargs["endpoint_url"], kwargs["requester_pays"]) == ("dev", "http://127.0.0.1:9000", True)
    assert (kwargs["default_block_size"], kwargs["max_concurrency"]) == (16 * 2**20, 3)
    assert kwargs["use_listings_cache"] is False and kwargs["skip_instance_cache"] is True
