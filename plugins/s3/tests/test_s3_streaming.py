"""Big artifacts: multipart uploads with the configured part size, memory bounded by the parts in flight."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flowyml.serialization.artifact_io import MANIFEST, file_sha256
from flowyml.testing import make_stack
from standins.aws import boto3_client

MIB = 2**20


def write_blob(path: Path, size: int) -> None:
    """``size`` bytes written one MiB at a time, each MiB different."""
    with open(path, "wb") as out:
        for i in range(size // MIB):
            out.write(i.to_bytes(4, "big") * (MIB // 4))


UPLOAD_SCRIPT = """
import json, sys
from pathlib import Path
from flowyml.testing import make_stack
project, bucket, blob, digest, size = sys.argv[1:6]
stack = make_stack(Path(project), {"artifact_store": {"type": "s3", "bucket": bucket, "multipart_chunk_mb": 5, "max_concurrency": 2}})
store = stack.component(__import__("flowyml.plugins.kinds", fromlist=["Kind"]).Kind.ARTIFACT_STORE)
store.fs.exists(bucket + "/warm-up")  # open the client: its memory is not the upload's
def status(field):  # KiB, from Linux's /proc (ru_maxrss would count the forking parent's RSS)
    return int(next(l for l in open("/proc/self/status") if l.startswith(field + ":")).split()[1])
before = status("VmRSS")
def write(directory):
    (directory / "data.bin").hardlink_to(blob)
    (directory / "flowyml.json").write_text(json.dumps({"files": {"data.bin": {"sha256": digest, "size": int(size)}}}))
uri = stack.hook.flowyml_artifact_store_save(key="big/one", write=write)
after = status("VmHWM")  # this process's peak RSS
print(json.dumps({"uri": uri, "grew_kib": after - before}))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmRSS from /proc (Linux)")
def test_multipart_upload_streams_with_the_configured_part_size(tmp_path: Path, s3_bucket: str, aws_env: Any) -> None:
    size = 120 * MIB
    blob = tmp_path / "blob.bin"
    write_blob(blob, size)
    digest = file_sha256(blob)
    project = tmp_path / "project"
    project.mkdir()
    # Its own process (moto runs inside this one and keeps every part in memory), measured by peak RSS.
    done = subprocess.run(
        [sys.executable, "-c", UPLOAD_SCRIPT, str(project), s3_bucket, str(blob), digest, str(size)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    head = boto3_client("s3", aws_env.endpoint_url).head_object(Bucket=s3_bucket, Key="big/one/data.bin")
    assert head["ContentLength"] == size
    assert head["ETag"].strip('"').endswith("-24")  # 24 parts of 5 MiB: a multipart upload
    # two 5 MiB parts in flight plus request buffers: far below the 120 MiB file
    assert result["grew_kib"] * 1024 < 64 * MIB, f"peak RSS grew by {result['grew_kib'] / 1024:.0f} MiB during the upload"

    stack = make_stack(tmp_path, {"artifact_store": {"type": "s3", "bucket": s3_bucket}})
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    local = Path(stack.hook.flowyml_artifact_store_fetch(uri=result["uri"], scratch=scratch))
    assert file_sha256(local / "data.bin") == digest


def test_small_files_go_in_one_request(tmp_path: Path, s3_bucket: str, aws_env: Any) -> None:
    stack = make_stack(tmp_path, {"artifact_store": {"type": "s3", "bucket": s3_bucket, "multipart_chunk_mb": 5}})
    blob = tmp_path / "blob.bin"
    write_blob(blob, 9 * MIB)  # under two parts

    def write(directory: Path) -> None:
        (directory / "data.bin").hardlink_to(blob)
        (directory / MANIFEST).write_text("{}")

    stack.hook.flowyml_artifact_store_save(key="small/one", write=write)
    head = boto3_client("s3", aws_env.endpoint_url).head_object(Bucket=s3_bucket, Key="small/one/data.bin")
    assert "-" not in head["ETag"]
