"""Uploads cut short end cleanly: Ctrl-C during a save aborts the S3 multipart upload / cancels the GCS resumable session.

s3fs and gcsfs end an upload themselves when a part fails with an ``Exception``;
a ``KeyboardInterrupt`` stops the waiting thread while their upload coroutine is
left running, and the process then exits with the upload open. The store ends
it (``FsspecArtifactStore.abort_uploads``). Each test saves a large file in a
real subprocess against the stand-in, sends SIGINT while the upload is open,
and asks the service what is left.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest

MB = 2**20

SAVER = """
import json, os, sys
from pathlib import Path
from flowyml.testing import make_stack

folder, store = Path(sys.argv[1]), json.loads(sys.argv[2])
stack = make_stack(folder, {"artifact_store": store})

def write(directory):
    with open(directory / "big.bin", "wb") as out:
        for _ in range(int(sys.argv[3])):
            out.write(bytes(2**20))
    (directory / "flowyml.json").write_text("{}")

(folder / "writing").touch()
stack.hook.flowyml_artifact_store_save(key="run-1/big", write=write)
"""


def _save_in_subprocess(tmp_path: Path, store: dict[str, Any], megabytes: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(
        [sys.executable, "-c", SAVER, str(tmp_path), json.dumps(store), str(megabytes)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _interrupt_when(proc: subprocess.Popen[str], ready: Any, timeout: float = 120) -> tuple[str, str]:
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the upload never started"
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    return proc.communicate(timeout=60)


@pytest.mark.slow
def test_ctrl_c_during_an_s3_multipart_upload_leaves_no_upload_open(tmp_path: Path, aws_env: Any, s3_bucket: str) -> None:
    from standins.aws import boto3_client

    s3 = boto3_client("s3", aws_env.endpoint_url)
    store = {"type": "s3", "bucket": s3_bucket, "prefix": "ml", "endpoint_url": aws_env.endpoint_url,
             "multipart_chunk_mb": 5, "max_concurrency": 1}
    proc = _save_in_subprocess(tmp_path, store, megabytes=40)

    def upload_open() -> bool:
        return bool(s3.list_multipart_uploads(Bucket=s3_bucket).get("Uploads"))

    out, err = _interrupt_when(proc, upload_open)
    assert proc.returncode != 0 and "KeyboardInterrupt" in err, out + err
    time.sleep(0.5)  # anything still in flight when the process ended has landed
    assert s3.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=s3_bucket).get("Contents", [])]
    assert "ml/run-1/big/flowyml.json" not in keys and "ml/run-1/big/big.bin" not in keys


@pytest.mark.slow
def test_ctrl_c_during_a_gcs_resumable_upload_cancels_the_session(
    tmp_path: Path, gcs_env: Any, gcs_bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    storage = gcs_env._server._storage  # the in-memory emulator: its open resumable sessions
    store = {"type": "gcs", "bucket": gcs_bucket, "prefix": "ml", "endpoint_url": gcs_env.endpoint_url, "upload_chunk_mb": 1}
    caplog.set_level(logging.INFO, logger="gcp_storage_emulator.server")
    proc = _save_in_subprocess(tmp_path, store, megabytes=100)

    sessions: list[str] = []

    def session_open() -> bool:  # open, and its first chunk received (so the client knows its URI)
        sessions.extend(
            uid for uid, obj in list(storage.resumable.items())
            if obj.get("bucket") == gcs_bucket and storage.get_resumable_byte_count(uid) > 0
        )
        return bool(sessions)

    out, err = _interrupt_when(proc, session_open)
    assert proc.returncode != 0 and "KeyboardInterrupt" in err, out + err
    session = sessions[0]
    # The emulator does not implement cancelling (it keeps the session), so what is checked is the
    # request real GCS acts on: a DELETE to the session URI (answered 499 there).
    seen = [unquote_plus(r.getMessage()) for r in caplog.records if r.name == "gcp_storage_emulator.server"]
    # the emulator logs it as 'Method not implemented: DELETE - /upload/...?...upload_id=SESSION'
    deletes = [line for line in seen if "DELETE" in line and "/upload/" in line and f"upload_id={session}" in line]
    assert deletes, f"no cancel request for session {session}; the emulator saw: {seen[-5:]}"


class OutageProxy:
    """A TCP proxy to a server that, once a request matching ``pattern`` starts, drops every
    connection and refuses new ones for ``seconds``, then forwards again (a short outage)."""

    def __init__(self, target_port: int, pattern: bytes, seconds: float) -> None:
        import socket
        import threading

        self.target, self.pattern, self.seconds = ("127.0.0.1", target_port), re.compile(pattern), seconds
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.endpoint_url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.outage_until = 0.0
        self.happened = threading.Event()
        self._open: list[Any] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.listener.close()

    def _accept(self) -> None:
        import socket
        import threading

        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if time.monotonic() < self.outage_until:
                client.close()  # refused, as far as the client can tell
                continue
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._open += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _cut(self) -> None:
        import socket

        self.outage_until = time.monotonic() + self.seconds
        self.happened.set()
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self._open.clear()

    def _pump(self, src: Any, dst: Any, inspect: bool) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if inspect and not self.happened.is_set() and self.pattern.search(data):
                    self._cut()
                    return
                dst.sendall(data)
        except OSError:
            pass


def test_a_retried_s3_upload_does_not_leave_its_first_try_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aws_env: Any, s3_bucket: str) -> None:
    from flowyml.plugins.kinds import Kind
    from flowyml.testing import make_stack
    from standins.aws import boto3_client

    s3 = boto3_client("s3", aws_env.endpoint_url)
    # S3 goes away as the second part starts and comes back 4 s later: the part (with s3fs' own
    # retries, about 2 s) and s3fs' abort of the upload fail; the store's retry (after 6 s) succeeds.
    proxy = OutageProxy(aws_env.port, rb"PUT /[^ ]*partNumber=2&", seconds=4.0)
    monkeypatch.chdir(tmp_path)
    try:
        stack = make_stack(tmp_path, {"artifact_store": {
            "type": "s3", "bucket": s3_bucket, "prefix": "ml", "endpoint_url": proxy.endpoint_url,
            "multipart_chunk_mb": 5, "max_concurrency": 1, "max_attempts": 2, "retry_backoff": 6.0,
        }})

        def write(directory: Path) -> None:
            (directory / "big.bin").write_bytes(bytes(range(256)) * (16 * MB // 256))
            (directory / "flowyml.json").write_text("{}")

        uri = stack.hook.flowyml_artifact_store_save(key="run-1/big", write=write)
    finally:
        proxy.close()
    assert proxy.happened.is_set()
    assert stack.component(Kind.ARTIFACT_STORE).retries == 1  # the first try failed, the second succeeded
    assert uri == f"s3://{s3_bucket}/ml/run-1/big"
    assert s3.head_object(Bucket=s3_bucket, Key="ml/run-1/big/big.bin")["ContentLength"] == 16 * MB
    assert s3.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []
