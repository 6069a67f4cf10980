"""Small flat artifacts are ONE S3 object (their packed form at KEY/flowyml.json): one conditional PUT, one GET.

Against the real moto stand-in; requests are counted from moto's own request
log (werkzeug's, one line per HTTP request it answered).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fault_proxy import FaultProxy

from flowyml.core import Dataset, Model
from flowyml.errors import IntegrityError, StoreError
from flowyml.plugins.kinds import Kind
from flowyml.runner.loading import fetch_and_read
from flowyml.serialization.artifact_io import MANIFEST, write_artifact
from flowyml.serialization.writer import ArtifactWriter
from flowyml.stores import fsspec_store
from flowyml.stores import staging as staging_module
from flowyml.stores.packed import MAGIC
from flowyml.testing import make_stack
from standins.aws import boto3_client
from standins.dead_process import dead_owner_name

MIB = 2**20
ANSI = re.compile(r"\x1b\[[0-9;]*m")
REQUEST = re.compile(r'"(GET|PUT|HEAD|POST|DELETE) (/[^ ]*) HTTP/[0-9.]+"? (\d{3})')


@pytest.fixture
def requests(caplog: pytest.LogCaptureFixture, aws_env: Any) -> Callable[[str], Any]:
    """``with requests(bucket) as seen:`` collects (method, path, status) of each request moto answered for ``bucket``.

    moto logs a request after answering it: the block ends with a marker request,
    and waits for its line before reading the log.
    """

    @contextmanager
    def count(bucket: str) -> Iterator[list[tuple[str, str, str]]]:
        seen: list[tuple[str, str, str]] = []
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            yield seen
            marker = f"/{bucket}-end-of-count"
            with contextlib.suppress(Exception):
                boto3_client("s3", aws_env.endpoint_url).head_bucket(Bucket=marker[1:])
            deadline = time.monotonic() + 10
            while not any(marker in record.getMessage() for record in caplog.records) and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.05)
        for record in caplog.records:
            match = REQUEST.search(ANSI.sub("", record.getMessage()))  # werkzeug colours 4xx/5xx lines
            if match and match.group(2).startswith((f"/{bucket}/", f"/{bucket}?")):
                seen.append((match.group(1), match.group(2), match.group(3)))

    return count


def stack_on(tmp_path: Path, bucket: str, **options: Any) -> Any:
    (tmp_path / "project").mkdir(exist_ok=True)
    return make_stack(tmp_path / "project", {"artifact_store": {"type": "s3", "bucket": bucket, "max_attempts": 2, "retry_backoff": 0.05, **options}})


def save(stack: Any, key: str, value: Any) -> tuple[str, str]:
    """Save ``value`` at ``key``; return its URI and content hash."""
    written: dict[str, Any] = {}

    def write(directory: Path) -> None:
        written.update(write_artifact(value, directory))

    return stack.hook.flowyml_artifact_store_save(key=key, write=write), written["content_hash"]


def stored(endpoint: str, bucket: str, prefix: str) -> dict[str, bytes]:
    s3 = boto3_client("s3", endpoint)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def frame() -> pd.DataFrame:
    return pd.DataFrame({"a": np.arange(1000, dtype="float64"), "b": [f"row {i}" for i in range(1000)]})


def test_a_small_artifact_is_one_object_saved_and_fetched_in_two_requests(tmp_path: Path, s3_bucket: str, aws_env: Any, requests: Any) -> None:
    stack = stack_on(tmp_path, s3_bucket)
    for key, value in (("bytes", b"\x00\x01 some bytes" * 100), ("frame", Dataset(frame(), name="f", format="parquet"))):
        with requests(s3_bucket) as seen:
            uri, content_hash = save(stack, key, value)
            loaded = fetch_and_read(stack, uri, content_hash)  # verified against the hash
        # one PUT; one GET of at most the largest pack (a ranged GET: 206), so memory stays bounded
        assert seen == [("PUT", f"/{s3_bucket}/{key}/{MANIFEST}", "200"), ("GET", f"/{s3_bucket}/{key}/{MANIFEST}", "206")]
        objects = stored(aws_env.endpoint_url, s3_bucket, key + "/")
        assert list(objects) == [f"{key}/{MANIFEST}"] and objects[f"{key}/{MANIFEST}"].startswith(MAGIC)
        if isinstance(value, Dataset):
            pd.testing.assert_frame_equal(loaded.data, value.data)
        else:
            assert loaded == value
        assert stack.hook.flowyml_artifact_store_exists(uri=uri) is True
    assert stack.hook.flowyml_artifact_store_delete(uri=uri) is True
    assert stack.hook.flowyml_artifact_store_exists(uri=uri) is False
    assert not stored(aws_env.endpoint_url, s3_bucket, "frame/")


def test_saving_over_a_stored_artifact_is_refused_by_the_conditional_put(tmp_path: Path, s3_bucket: str, aws_env: Any, requests: Any) -> None:
    stack = stack_on(tmp_path, s3_bucket)
    uri, content_hash = save(stack, "taken", {"first": 1})
    model_uri, model_hash = save(stack, "model", Model(b"weights", name="m"))  # a folder artifact
    for key in ("taken", "model"):
        with requests(s3_bucket) as seen, pytest.raises(StoreError, match=r"an artifact already exists at s3://.*; refusing to overwrite it") as caught:
            save(stack, key, {"second": 2})
        assert "{run_id}" in (caught.value.hint or "")
        # no HEAD first: the PUT is the check; after a 412, one HEAD tells another save's object from this one's
        assert seen == [("PUT", f"/{s3_bucket}/{key}/{MANIFEST}", "412"), ("HEAD", f"/{s3_bucket}/{key}/{MANIFEST}", "200")]
    assert fetch_and_read(stack, uri, content_hash) == {"first": 1}
    assert fetch_and_read(stack, model_uri, model_hash).data == b"weights"


def test_a_retried_put_whose_first_try_was_stored_is_not_a_conflict(tmp_path: Path, s3_bucket: str, aws_env: Any) -> None:
    proxy = FaultProxy(aws_env.port)
    proxy.lose_answer_when(rb"PUT /[^ ]*/lost/flowyml\.json")  # stored by moto, but the client sees the connection drop
    try:
        stack = stack_on(tmp_path, s3_bucket, endpoint_url=proxy.endpoint_url)
        uri, content_hash = save(stack, "lost", [1, 2, 3])
    finally:
        proxy.stop()
    assert proxy.lost.is_set()
    assert fetch_and_read(stack_on(tmp_path, s3_bucket), uri, content_hash) == [1, 2, 3]


def test_an_interrupted_packed_save_leaves_nothing_that_loads(tmp_path: Path, s3_bucket: str, aws_env: Any) -> None:
    proxy = FaultProxy(aws_env.port)
    proxy.cut_when(rb"PUT /[^ ]*/cut/flowyml\.json")
    try:
        stack = stack_on(tmp_path, s3_bucket, endpoint_url=proxy.endpoint_url, max_attempts=1)
        with pytest.raises(StoreError, match="cannot reach S3"):
            save(stack, "cut", b"x" * 5000)
    finally:
        proxy.stop()
    direct = stack_on(tmp_path, s3_bucket)
    assert not stored(aws_env.endpoint_url, s3_bucket, "cut/")
    assert direct.hook.flowyml_artifact_store_exists(uri=f"s3://{s3_bucket}/cut") is False


def test_nested_model_and_large_artifacts_stay_folders(tmp_path: Path, s3_bucket: str, aws_env: Any, requests: Any) -> None:
    # multipart_chunk_mb=5, max_concurrency=1: one request holds at most 10 MiB, so a 12 MiB artifact does not pack
    stack = stack_on(tmp_path, s3_bucket, multipart_chunk_mb=5, max_concurrency=1)
    assert stack.component(Kind.ARTIFACT_STORE).pack_limit() == 10 * MIB - 1
    big = np.arange(12 * MIB // 8, dtype="int64")

    def nested(directory: Path) -> None:
        (directory / "sub").mkdir()
        (directory / "sub" / "part.txt").write_text("inner")
        (directory / MANIFEST).write_text(json.dumps({"files": {"sub/part.txt": {"size": 5}}}))

    with requests(s3_bucket) as seen:
        uris = {"model": save(stack, "model", Model(b"tiny weights", name="m"))}
    # the existence check is one HEAD (s3fs' exists would follow its 404 with a listing), the manifest last
    assert [(method, status) for method, _, status in seen] == [("HEAD", "404"), ("PUT", "200"), ("PUT", "200")]
    assert seen[-1][1] == f"/{s3_bucket}/model/{MANIFEST}"
    uris["big"] = save(stack, "big", big)
    uris["nested"] = (stack.hook.flowyml_artifact_store_save(key="nested", write=nested), "")
    for key in ("model", "big", "nested"):
        objects = stored(aws_env.endpoint_url, s3_bucket, key + "/")
        assert f"{key}/{MANIFEST}" in objects and len(objects) >= 2, objects.keys()
        assert not objects[f"{key}/{MANIFEST}"].startswith(MAGIC)
    with requests(s3_bucket) as seen:
        assert fetch_and_read(stack, *uris["model"]).data == b"tiny weights"
    # the manifest GET first, then one listing and the data file: no more requests than before
    assert [method for method, _, _ in seen] == ["GET", "GET", "GET"]
    assert seen[0][1] == f"/{s3_bucket}/model/{MANIFEST}" and "list-type=2" in seen[1][1]
    assert np.array_equal(fetch_and_read(stack, *uris["big"]), big)
    scratch = Path(stack.hook.flowyml_artifact_store_fetch(uri=uris["nested"][0], scratch=tmp_path / "scratch"))
    assert (scratch / "sub" / "part.txt").read_text() == "inner"


def test_folder_artifacts_written_before_the_packed_layout_still_load(tmp_path: Path, s3_bucket: str, aws_env: Any) -> None:
    folder = tmp_path / "old"
    folder.mkdir()
    manifest = write_artifact({"old": True}, folder)
    s3 = boto3_client("s3", aws_env.endpoint_url)
    for path in sorted(folder.iterdir(), key=lambda p: p.name == MANIFEST):  # data first, manifest last: the old save
        s3.put_object(Bucket=s3_bucket, Key=f"old/{path.name}", Body=path.read_bytes())
    stack = stack_on(tmp_path, s3_bucket)
    assert stack.hook.flowyml_artifact_store_exists(uri=f"s3://{s3_bucket}/old") is True
    assert fetch_and_read(stack, f"s3://{s3_bucket}/old", manifest["content_hash"]) == {"old": True}


def _edit_manifest(pack: bytes, edit: Callable[[dict[str, Any]], None]) -> bytes:
    line, _, body = pack[len(MAGIC) :].partition(b"\n")
    manifest = json.loads(line)
    edit(manifest)
    return MAGIC + json.dumps(manifest).encode() + b"\n" + body


def _rename_file(manifest: dict[str, Any], name: str) -> None:
    (info,) = manifest["files"].values()
    manifest["files"] = {name: info}


#: name -> (how the pack is changed, given a unique name that escaping files would take; what the refusal says)
TAMPERINGS: dict[str, tuple[Callable[[bytes, str], bytes], str]] = {
    "edited manifest": (lambda p, _: _edit_manifest(p, lambda m: m.update(python_type="builtins.str")), "does not match its record"),
    "wrong size": (lambda p, _: _edit_manifest(p, lambda m: next(iter(m["files"].values())).update(size=1)), "malformed"),
    "escaping name": (lambda p, evil: _edit_manifest(p, lambda m: _rename_file(m, f"../{evil}")), "malformed"),
    "absolute name": (lambda p, evil: _edit_manifest(p, lambda m: _rename_file(m, f"{tempfile.gettempdir()}/{evil}")), "malformed"),
    "truncated body": (lambda p, _: p[:-10], "malformed"),
    "no manifest line end": (lambda p, _: p[: len(MAGIC) + 20], "malformed"),
    "edited data": (lambda p, _: p[:-1] + bytes([p[-1] ^ 1]), "sha256"),
}


@pytest.mark.parametrize("tampering", list(TAMPERINGS))
def test_a_tampered_pack_is_refused_before_anything_is_read(tmp_path: Path, s3_bucket: str, aws_env: Any, tampering: str) -> None:
    stack = stack_on(tmp_path, s3_bucket)
    uri, content_hash = save(stack, "victim", {"payload": list(range(50))})
    s3 = boto3_client("s3", aws_env.endpoint_url)
    key = f"victim/{MANIFEST}"
    pack = s3.get_object(Bucket=s3_bucket, Key=key)["Body"].read()
    change, refusal = TAMPERINGS[tampering]
    evil = f"escaped-{uuid.uuid4().hex}"  # the scratch folder is in the temp folder: ../ lands there
    s3.put_object(Bucket=s3_bucket, Key=key, Body=change(pack, evil))
    try:
        with pytest.raises(IntegrityError, match=refusal):
            fetch_and_read(stack, uri, content_hash)
        assert not Path(tempfile.gettempdir(), evil).exists()
    finally:
        Path(tempfile.gettempdir(), evil).unlink(missing_ok=True)


def test_a_manifest_longer_than_the_first_read_is_fetched_whole(tmp_path: Path, s3_bucket: str, aws_env: Any,
                                                                 monkeypatch: pytest.MonkeyPatch, requests: Any) -> None:
    import flowyml_s3.store

    stack = stack_on(tmp_path, s3_bucket)
    uri, content_hash = save(stack, "model", Model(b"weights", name="m"))  # a folder: its manifest is ~600 bytes
    monkeypatch.setattr(flowyml_s3.store, "PACK_MAX", 100)  # the first GET reads 101 bytes of it
    with requests(s3_bucket) as seen:
        assert fetch_and_read(stack, uri, content_hash).data == b"weights"
    assert [(method, status) for method, _, status in seen] == [("GET", "206"), ("GET", "200"), ("GET", "200"), ("GET", "200")]
    assert seen[1][1] == f"/{s3_bucket}/model/{MANIFEST}" and "list-type=2" in seen[2][1]


def test_a_value_packed_in_memory_is_uploaded_without_a_local_staging_folder(
    tmp_path: Path, s3_bucket: str, aws_env: Any, requests: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pipeline's small output (an ArtifactWriter) goes up from memory: same two requests, nothing staged on disk."""
    staged: list[Path] = []
    real_staging = fsspec_store.new_temp_staging

    def counting_staging() -> Path:
        staged.append(real_staging())
        return staged[-1]

    monkeypatch.setattr(fsspec_store, "new_temp_staging", counting_staging)
    # staging a killed process left in the temp folder is still removed by this process's first save
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setattr(staging_module, "_swept", set())
    dead = temp / f"{staging_module.TEMP_PREFIX}{dead_owner_name()}"
    (dead / "artifact").mkdir(parents=True)
    stack = stack_on(tmp_path, s3_bucket)
    writer = ArtifactWriter({"rows": 3}, {"run_id": "r1"})
    with requests(s3_bucket) as seen:
        uri = stack.hook.flowyml_artifact_store_save(key="memory", write=writer)
        assert writer.manifest is not None and writer.manifest["run_id"] == "r1"
        assert fetch_and_read(stack, uri, writer.manifest["content_hash"]) == {"rows": 3}
    assert seen == [("PUT", f"/{s3_bucket}/memory/{MANIFEST}", "200"), ("GET", f"/{s3_bucket}/memory/{MANIFEST}", "206")]
    assert staged == [] and not dead.exists()
    objects = stored(aws_env.endpoint_url, s3_bucket, "memory/")
    assert list(objects) == [f"memory/{MANIFEST}"] and objects[f"memory/{MANIFEST}"].startswith(MAGIC)

    # the same key again: refused by the conditional PUT, the stored value untouched
    with pytest.raises(StoreError, match="refusing to overwrite it"):
        stack.hook.flowyml_artifact_store_save(key="memory", write=ArtifactWriter({"rows": 4}))
    assert fetch_and_read(stack, uri, writer.manifest["content_hash"]) == {"rows": 3}

    # a Model stays a folder, and goes through a staging folder as before (removed afterwards)
    model = ArtifactWriter(Model(b"weights", name="m"))
    model_uri = stack.hook.flowyml_artifact_store_save(key="model", write=model)
    assert len(staged) == 1 and not staged[0].exists()
    assert model.manifest is not None
    assert fetch_and_read(stack, model_uri, model.manifest["content_hash"]).data == b"weights"
    assert not stored(aws_env.endpoint_url, s3_bucket, "model/")[f"model/{MANIFEST}"].startswith(MAGIC)
