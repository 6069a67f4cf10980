"""One retry layer: a throttled call is tried max_attempts times in all, not once per layer (store, s3fs and botocore each)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from flowyml.errors import StoreError
from flowyml.testing import make_stack

SLOW_DOWN = b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>'


EMPTY_LISTING = (
    b'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    b"<Name>busy</Name><Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>"
)


class Throttling(ThreadingHTTPServer):
    """An S3 endpoint holding nothing that answers every upload 503 SlowDown, counting the uploads."""

    uploads = 0


class _Handler(BaseHTTPRequestHandler):
    server: Throttling
    protocol_version = "HTTP/1.1"  # answers botocore's "Expect: 100-continue" on uploads

    def _answer(self, status: int, body: bytes = b"") -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self._answer(404)

    def do_GET(self) -> None:
        self._answer(200, EMPTY_LISTING)

    def do_PUT(self) -> None:
        self.server.uploads += 1
        self._answer(503, SLOW_DOWN)

    do_POST = do_PUT

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def throttling() -> Iterator[Throttling]:
    server = Throttling(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_throttled_call_is_tried_max_attempts_times_in_all(
    tmp_path: Path, aws_env: Any, throttling: Throttling, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "5")  # botocore's own retries would multiply the store's
    monkeypatch.setenv("AWS_RETRY_MODE", "legacy")
    endpoint = f"http://127.0.0.1:{throttling.server_address[1]}"
    counts = {}
    for attempts in (1, 3):
        store = {"type": "s3", "bucket": "busy", "endpoint_url": endpoint, "max_attempts": attempts, "retry_backoff": 0.01, "path_style": True}
        (tmp_path / str(attempts)).mkdir()
        stack = make_stack(tmp_path / str(attempts), {"artifact_store": store})
        throttling.uploads = 0
        with pytest.raises(StoreError, match="busy or failing") as caught:
            stack.hook.flowyml_artifact_store_save(key="k", write=lambda d: (d / "x").write_text("x"))
        assert caught.value.transient
        counts[attempts] = throttling.uploads
    # Without one layer: botocore's 5 attempts inside each of s3fs' 5 tries, inside each of the store's.
    assert counts == {1: 1, 3: 3}
