"""Pytest plugin: a real local AWS stand-in (moto server) for S3 and SageMaker.

Load it with ``-p standins.aws`` (``tests`` on ``PYTHONPATH``). Vendor libraries
(moto, boto3) are imported inside the functions only, so this module imports
with nothing but pytest installed.
"""

from __future__ import annotations

import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

__all__ = ["MotoServer", "boto3_client", "start_moto_server"]

REGION = "us-east-1"


class MotoServer:
    """Handle on a running in-process ``moto.server.ThreadedMotoServer``."""

    def __init__(self, server: Any, host: str, port: int) -> None:
        self._server = server
        self.host = host
        self.port = port
        self.endpoint_url = f"http://{host}:{port}"
        self._running = True

    def reset(self) -> None:
        """Wipe every moto backend (``POST /moto-api/reset``)."""
        request = urllib.request.Request(
            f"{self.endpoint_url}/moto-api/reset", data=b"", method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def stop(self) -> None:
        """Stop the server; calling it twice is harmless."""
        if self._running:
            self._running = False
            self._server.stop()


def start_moto_server() -> MotoServer:
    """Start a moto server on 127.0.0.1 and a free port; return its handle."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        handle = MotoServer(server, host, port)
        handle.reset()  # proves it answers HTTP before anyone uses it
    except BaseException:
        server.stop()
        raise
    return handle


def boto3_client(service: str, endpoint_url: str) -> Any:
    """A boto3 client for ``service`` at ``endpoint_url`` that never retries.

    Moto answers unimplemented calls with HTTP 500; without this botocore would
    retry them with back-off before failing.
    """
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}),  # one attempt in all (max_attempts counts retries: 1 retried once)
    )


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """One moto server for the whole session, stopped at its end."""
    server = start_moto_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def aws_env(
    moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[MotoServer]:
    """Point every AWS client at moto with fake credentials; reset moto afterwards.

    The default region is us-east-1: there s3fs ``mkdir(bucket)`` fails with
    "location-constraint is not valid", so create buckets with boto3 (``s3_bucket``).
    """
    config_file = tmp_path / "aws-config"
    credentials_file = tmp_path / "aws-credentials"
    config_file.write_text("")
    credentials_file.write_text("")
    for name in ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": moto_server.endpoint_url,
        "AWS_CONFIG_FILE": str(config_file),
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials_file),
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_RETRY_MODE": "standard",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    try:
        yield moto_server
    finally:
        moto_server.reset()


@pytest.fixture
def s3_bucket(aws_env: MotoServer) -> str:
    """A fresh, uniquely named S3 bucket in moto (wiped by ``aws_env``'s reset)."""
    name = f"test-{uuid.uuid4().hex[:16]}"
    boto3_client("s3", aws_env.endpoint_url).create_bucket(Bucket=name)
    return name
