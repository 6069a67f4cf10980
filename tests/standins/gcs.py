"""Pytest plugin: a real local Google Cloud Storage stand-in (gcp-storage-emulator).

Load it with ``-p standins.gcs`` (``tests`` on ``PYTHONPATH``). Vendor libraries
(gcp_storage_emulator, gcsfs) are imported inside the functions only, so this
module imports with nothing but pytest installed.

gcsfs reads ``GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT`` once, when it is imported; left
at its default every call then waits 50-90 s on a TLS gRPC probe. This plugin sets
it to ``false`` as soon as pytest loads it (``pytest_configure``, before test
modules are collected) and again in ``gcs_emulator``.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

__all__ = ["GcsEmulator", "start_gcs_emulator"]

PROJECT = "test-project"
DEFAULT_BUCKET = "default-bucket"
_HNS_FLAG = "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"
_START_TIMEOUT = 15.0


def pytest_configure(config: pytest.Config) -> None:
    """Switch gcsfs' gRPC probe off before any test module imports gcsfs."""
    os.environ[_HNS_FLAG] = "false"


class GcsEmulator:
    """Handle on a running in-memory gcp-storage-emulator server."""

    def __init__(self, server: Any, host: str, port: int, default_bucket: str) -> None:
        self._server = server
        self.host = host
        self.port = port
        self.endpoint_url = f"http://{host}:{port}"
        self.default_bucket = default_bucket
        self._running = True

    def create_bucket(self, name: str) -> None:
        """Create a bucket through the emulator's JSON API."""
        request = urllib.request.Request(
            f"{self.endpoint_url}/storage/v1/b?project={PROJECT}",
            data=json.dumps({"name": name}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def wipe(self) -> None:
        """Delete every bucket and object, then recreate the default bucket."""
        self._server.wipe()
        self.create_bucket(self.default_bucket)

    def stop(self) -> None:
        """Stop the server and close its socket; calling it twice is harmless."""
        if self._running:
            self._running = False
            self._server.stop()


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def start_gcs_emulator(default_bucket: str = DEFAULT_BUCKET) -> GcsEmulator:
    """Start an in-memory emulator on 127.0.0.1 and a free port; return its handle."""
    os.environ[_HNS_FLAG] = "false"
    from gcp_storage_emulator.server import create_server

    host, port = "127.0.0.1", _free_port("127.0.0.1")
    server = create_server(host, port, in_memory=True, default_bucket=default_bucket)
    # Server.start() waits forever if the bind fails (the port was taken in the
    # meantime): start it from a helper thread so that case fails loudly instead.
    starter = threading.Thread(target=server.start, daemon=True)
    starter.start()
    starter.join(_START_TIMEOUT)
    if starter.is_alive():
        raise RuntimeError(f"gcp-storage-emulator did not start on {host}:{port}")
    handle = GcsEmulator(server, host, port, default_bucket)
    try:
        with urllib.request.urlopen(f"{handle.endpoint_url}/", timeout=10) as response:
            response.read()  # health check: it answers HTTP
    except BaseException:
        handle.stop()
        raise
    return handle


@pytest.fixture(scope="session")
def gcs_emulator() -> Iterator[GcsEmulator]:
    """One emulator for the whole session, stopped at its end."""
    emulator = start_gcs_emulator()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def gcs_env(
    gcs_emulator: GcsEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[GcsEmulator]:
    """Point GCS clients at the emulator, anonymously; wipe it afterwards.

    The developer's gcloud config is hidden and google-auth's metadata-server probe
    is off, so nothing can reach a real Google endpoint.
    """
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator.endpoint_url)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", PROJECT)
    monkeypatch.setenv(_HNS_FLAG, "false")
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    try:
        yield gcs_emulator
    finally:
        gcs_emulator.wipe()


@pytest.fixture
def gcs_bucket(gcs_env: GcsEmulator) -> str:
    """A fresh, uniquely named bucket in the emulator (removed by ``gcs_env``'s wipe)."""
    name = f"test-{uuid.uuid4().hex[:16]}"
    gcs_env.create_bucket(name)
    return name
