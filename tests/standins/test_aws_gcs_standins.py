"""Self-tests of the AWS (moto) and GCS (gcp-storage-emulator) stand-ins, driven by
the real clients: s3fs, boto3, gcsfs and google-cloud-storage.

Run with::

    PYTHONPATH=tests pytest -p standins.aws -p standins.gcs tests/standins/test_aws_gcs_standins.py
"""

from __future__ import annotations

import hashlib
import logging
import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest

_WHERE = "installed by the aws-gcs nox session (requirements/standins-aws-gcs.txt)"
pytest.importorskip("moto.server", reason=f"moto[server] is {_WHERE}")
boto3 = pytest.importorskip("boto3", reason=f"boto3 is {_WHERE}")
s3fs = pytest.importorskip("s3fs", reason=f"s3fs is {_WHERE}")
pytest.importorskip("gcp_storage_emulator", reason=f"gcp-storage-emulator is {_WHERE}")
# standins.gcs has already set GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false (pytest_configure).
gcsfs = pytest.importorskip("gcsfs", reason=f"gcsfs is {_WHERE}")

from botocore.exceptions import ClientError  # noqa: E402

from standins.aws import MotoServer, boto3_client, start_moto_server  # noqa: E402
from standins.gcs import GcsEmulator, start_gcs_emulator  # noqa: E402

pytestmark = pytest.mark.slow

MiB = 2**20


def _random_file(path: Path, size: int) -> str:
    """Write ``size`` random bytes to ``path``; return their sha256."""
    data = os.urandom(size)
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _refuses_connections(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2).close()
    except urllib.error.HTTPError:
        return False  # it answered, even if with an error
    except (urllib.error.URLError, ConnectionError):
        return True
    return False


# --- AWS: S3 -----------------------------------------------------------------


def test_aws_env_points_boto3_at_moto_with_fake_credentials(aws_env: MotoServer) -> None:
    assert "AWS_SESSION_TOKEN" not in os.environ
    assert Path(os.environ["AWS_CONFIG_FILE"]).read_text() == ""
    session = boto3.Session()
    credentials = session.get_credentials()
    assert (credentials.access_key, credentials.secret_key, credentials.token) == (
        "testing",
        "testing",
        None,
    )
    assert session.region_name == "us-east-1"
    # No endpoint_url passed: AWS_ENDPOINT_URL alone sends it to moto.
    s3 = session.client("s3")
    assert s3.meta.endpoint_url == aws_env.endpoint_url
    assert s3.list_buckets()["Buckets"] == []


def test_s3fs_multipart_put_get_ls(s3_bucket: str, aws_env: MotoServer, tmp_path: Path) -> None:
    source = tmp_path / "model.bin"
    digest = _random_file(source, 20 * MiB)
    fs = s3fs.S3FileSystem(skip_instance_cache=True)  # everything from aws_env's variables

    fs.put(str(source), f"{s3_bucket}/models/v1/model.bin", chunksize=5 * MiB)
    fs.pipe(f"{s3_bucket}/models/v1/meta.json", b"{}")

    assert sorted(fs.ls(f"{s3_bucket}/models/v1")) == [
        f"{s3_bucket}/models/v1/meta.json",
        f"{s3_bucket}/models/v1/model.bin",
    ]
    assert fs.info(f"{s3_bucket}/models/v1/model.bin")["size"] == 20 * MiB
    head = boto3_client("s3", aws_env.endpoint_url).head_object(
        Bucket=s3_bucket, Key="models/v1/model.bin"
    )
    assert head["ETag"].strip('"').endswith("-4"), "expected a 4-part multipart upload"

    target = tmp_path / "back.bin"
    fs.get(f"{s3_bucket}/models/v1/model.bin", str(target))
    assert _sha256(target) == digest


def test_reset_wipes_buckets(s3_bucket: str, aws_env: MotoServer) -> None:
    s3 = boto3_client("s3", aws_env.endpoint_url)
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == [s3_bucket]
    aws_env.reset()
    assert s3.list_buckets()["Buckets"] == []


def test_buckets_do_not_leak_between_tests(aws_env: MotoServer) -> None:
    # Runs after the tests above created buckets: aws_env reset moto after each.
    assert boto3_client("s3", aws_env.endpoint_url).list_buckets()["Buckets"] == []


# --- AWS: SageMaker model registry -----------------------------------------------


def test_sagemaker_model_package_group_and_versions(aws_env: MotoServer) -> None:
    sm = boto3_client("sagemaker", aws_env.endpoint_url)
    sm.create_model_package_group(
        ModelPackageGroupName="churn", ModelPackageGroupDescription="churn models"
    )
    arns = [
        sm.create_model_package(
            ModelPackageGroupName="churn",
            ModelPackageDescription=f"version {n}",
            ModelApprovalStatus="PendingManualApproval",
            InferenceSpecification={
                "Containers": [
                    {
                        "Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:latest",
                        "ModelDataUrl": f"s3://models/churn/{n}/model.tar.gz",
                    }
                ],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )["ModelPackageArn"]
        for n in (1, 2)
    ]
    sm.update_model_package(ModelPackageArn=arns[1], ModelApprovalStatus="Approved")

    groups = sm.list_model_package_groups()["ModelPackageGroupSummaryList"]
    assert [g["ModelPackageGroupName"] for g in groups] == ["churn"]
    packages = sm.list_model_packages(ModelPackageGroupName="churn")["ModelPackageSummaryList"]
    assert sorted(p["ModelPackageVersion"] for p in packages) == [1, 2]
    approved = sm.list_model_packages(ModelPackageGroupName="churn", ModelApprovalStatus="Approved")
    assert [p["ModelPackageArn"] for p in approved["ModelPackageSummaryList"]] == [arns[1]]
    described = sm.describe_model_package(ModelPackageName=arns[0])
    assert (
        described["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
        == "s3://models/churn/1/model.tar.gz"
    )


def test_unimplemented_sagemaker_call_fails_fast(aws_env: MotoServer) -> None:
    sm = boto3_client("sagemaker", aws_env.endpoint_url)
    with pytest.raises(ClientError) as caught:
        sm.update_endpoint(EndpointName="missing", EndpointConfigName="missing")
    # counted by botocore, not timed (a time limit can fail on a loaded machine)
    assert caught.value.response["ResponseMetadata"]["RetryAttempts"] == 0, "a moto 500 must not be retried with back-off"


# --- AWS: server lifecycle -----------------------------------------------------


def test_moto_server_stop_start(moto_server: MotoServer) -> None:
    extra = start_moto_server()
    try:
        assert extra.port != moto_server.port
        assert extra.endpoint_url.startswith("http://127.0.0.1:")
        assert boto3_client("s3", extra.endpoint_url).list_buckets()["Buckets"] == []
    finally:
        extra.stop()
    extra.stop()  # idempotent
    assert _refuses_connections(f"{extra.endpoint_url}/moto-api/")
    # The session server is untouched by another server stopping.
    assert boto3_client("s3", moto_server.endpoint_url).list_buckets()["Buckets"] == []


# --- GCS -----------------------------------------------------------------------


def test_gcsfs_resumable_put_get_ls(
    gcs_bucket: str, gcs_env: GcsEmulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = tmp_path / "data.bin"
    digest = _random_file(source, 60 * MiB)
    fs = gcsfs.GCSFileSystem(
        token="anon", endpoint_url=gcs_env.endpoint_url, skip_instance_cache=True
    )

    with caplog.at_level(logging.INFO, logger="gcp_storage_emulator"):
        fs.put(str(source), f"{gcs_bucket}/runs/1/data.bin")
    assert "uploadType=resumable" in caplog.text, "60 MiB must go through a resumable upload"
    fs.pipe(f"{gcs_bucket}/runs/1/params.json", b'{"lr": 0.1}')
    fs.pipe(f"{gcs_bucket}/runs/2/params.json", b'{"lr": 0.2}')

    assert sorted(fs.ls(f"{gcs_bucket}/runs")) == [f"{gcs_bucket}/runs/1", f"{gcs_bucket}/runs/2"]
    assert sorted(fs.ls(f"{gcs_bucket}/runs/1")) == [
        f"{gcs_bucket}/runs/1/data.bin",
        f"{gcs_bucket}/runs/1/params.json",
    ]
    assert gcs_bucket in [b.rstrip("/") for b in fs.ls("")]
    fs.invalidate_cache("")  # after ls(""), info() on an object would read a stale cache
    assert fs.info(f"{gcs_bucket}/runs/1/data.bin")["size"] == 60 * MiB
    assert (
        fs.cat_file(f"{gcs_bucket}/runs/1/data.bin", start=10, end=20) == source.read_bytes()[10:20]
    )

    target = tmp_path / "back.bin"
    fs.get(f"{gcs_bucket}/runs/1/data.bin", str(target))
    assert _sha256(target) == digest


def test_gcs_env_serves_google_cloud_storage_client(gcs_bucket: str, gcs_env: GcsEmulator) -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    assert os.environ["STORAGE_EMULATOR_HOST"] == gcs_env.endpoint_url
    client = storage.Client(
        project=os.environ["GOOGLE_CLOUD_PROJECT"], credentials=AnonymousCredentials()
    )
    client.bucket(gcs_bucket).blob("a/b.txt").upload_from_string(b"hello")
    assert [b.name for b in client.list_blobs(gcs_bucket, prefix="a/")] == ["a/b.txt"]
    assert sorted(b.name for b in client.list_buckets()) == sorted(
        [gcs_env.default_bucket, gcs_bucket]
    )


def test_gcs_wipe_keeps_only_default_bucket(gcs_bucket: str, gcs_env: GcsEmulator) -> None:
    fs = gcsfs.GCSFileSystem(
        token="anon", endpoint_url=gcs_env.endpoint_url, skip_instance_cache=True
    )
    fs.pipe(f"{gcs_env.default_bucket}/x", b"x")
    gcs_env.wipe()
    fs.invalidate_cache()
    assert [b.rstrip("/") for b in fs.ls("")] == [gcs_env.default_bucket]
    assert fs.ls(gcs_env.default_bucket) == []


def test_gcs_emulator_stop_start_isolation(gcs_emulator: GcsEmulator) -> None:
    gcs_emulator.create_bucket("only-in-session-emulator")
    try:
        extra = start_gcs_emulator(default_bucket="extra-default")
        try:
            assert extra.port != gcs_emulator.port
            fs = gcsfs.GCSFileSystem(
                token="anon", endpoint_url=extra.endpoint_url, skip_instance_cache=True
            )
            assert [b.rstrip("/") for b in fs.ls("")] == [
                "extra-default"
            ]  # its own in-memory store
        finally:
            extra.stop()
        extra.stop()  # idempotent
        assert _refuses_connections(f"{extra.endpoint_url}/")
    finally:
        gcs_emulator.wipe()
    fs = gcsfs.GCSFileSystem(
        token="anon", endpoint_url=gcs_emulator.endpoint_url, skip_instance_cache=True
    )
    assert [b.rstrip("/") for b in fs.ls("")] == [gcs_emulator.default_bucket]
