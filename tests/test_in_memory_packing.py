"""Small values are packed from memory: the same bytes as a folder write, no staged files on the disk."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowyml import Metrics, pipeline, step
from flowyml.serialization.artifact_io import read_artifact, write_artifact
from flowyml.serialization.builtin import (
    BytesSerializer,
    JsonSerializer,
    PickleSerializer,
    TextSerializer,
)
from flowyml.serialization.inmemory import encode_within
from flowyml.serialization.writer import ArtifactWriter
from flowyml.stores.packed import PACK_LIMIT, unpack

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def _saved(serializer, value, folder: Path) -> dict[str, bytes]:
    folder.mkdir()
    serializer.save(value, folder)
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@settings(max_examples=60, deadline=None)
@given(value=json_values)
def test_json_encodes_the_bytes_save_writes(tmp_path_factory, value) -> None:
    """Bug caught: an in-memory encoding that differs from the file (another JSON spelling, another
    encoding), so the same value gets another content hash depending on its size."""
    assert JsonSerializer().encode(value, PACK_LIMIT) == _saved(JsonSerializer(), value, tmp_path_factory.mktemp("j") / "a")


@settings(max_examples=60, deadline=None)
@given(value=st.text())
def test_text_encodes_the_bytes_save_writes(tmp_path_factory, value) -> None:
    encoded = TextSerializer().encode(value, 1 << 20)
    assert encoded == _saved(TextSerializer(), value, tmp_path_factory.mktemp("t") / "a")


@pytest.mark.parametrize("value", [b"", b"\x00\x01", bytearray(b"abc")])
def test_bytes_and_pickles_encode_the_bytes_save_writes(tmp_path: Path, value) -> None:
    assert BytesSerializer().encode(value, PACK_LIMIT) == _saved(BytesSerializer(), value, tmp_path / "b")
    obj = {"set": {1, 2}, "value": value}
    assert PickleSerializer().encode(obj, PACK_LIMIT) == _saved(PickleSerializer(), obj, tmp_path / "p")


def test_too_large_values_are_not_encoded(tmp_path: Path) -> None:
    """Bug caught: the limit ignored (a large value copied into memory for nothing)."""
    assert TextSerializer().encode("é" * 600, 1000) is None  # 1,200 bytes of UTF-8
    assert BytesSerializer().encode(b"x" * 1001, 1000) is None
    assert PickleSerializer().encode(list(range(10_000)), 1000) is None


def test_encoding_stops_at_the_first_write_past_the_limit() -> None:
    """Bug caught: the whole value serialized before its size is compared with the limit."""
    writes: list[int] = []

    def dump(fh) -> None:
        for _ in range(100):
            writes.append(1)
            fh.write(b"x" * 10)

    assert encode_within(35, dump) is None
    assert len(writes) == 4  # the fourth write went past 35 bytes: nothing after it
    assert encode_within(1000, dump) == b"x" * 1000


@pytest.mark.parametrize("value", [42, "text", b"\x00bytes", {"a": [1, 2.5, None]}, Metrics({"acc": 0.9}), {1, 2, 3}])
def test_a_packed_value_reads_back_like_its_folder(tmp_path: Path, value) -> None:
    writer = ArtifactWriter(value, {"run_id": "r"})
    packed = writer.packed(PACK_LIMIT)
    assert packed is not None and len(packed) <= PACK_LIMIT
    folder = tmp_path / "folder"
    folder.mkdir()
    manifest = write_artifact(value, folder, {"run_id": "r"})
    assert writer.manifest is not None and writer.manifest["content_hash"] == manifest["content_hash"]
    loaded = read_artifact(unpack(packed, tmp_path / "scratch", "test"), writer.manifest["content_hash"])
    assert loaded == value or (isinstance(value, Metrics) and loaded.data == value.data)


def test_a_value_too_large_to_pack_is_written_from_its_encoding_once(tmp_path: Path) -> None:
    """Bug caught: a large JSON value serialized twice (once to try packing, once for the folder)."""
    calls: list[int] = []
    original = JsonSerializer.save

    value = {"rows": list(range(5000))}
    writer = ArtifactWriter(value)
    assert writer.packed(PACK_LIMIT) is None
    JsonSerializer.save = lambda self, v, d: calls.append(1) or original(self, v, d)  # type: ignore[method-assign]
    try:
        folder = tmp_path / "f"
        folder.mkdir()
        manifest = writer(folder)
    finally:
        JsonSerializer.save = original  # type: ignore[method-assign]
    assert calls == []
    assert read_artifact(folder, manifest["content_hash"]) == value


@step(cache=False)
def tiny_value() -> int:
    return 7


@pipeline
def one_tiny() -> None:
    tiny_value()


_opens: list[tuple[str, str]] = []
_watching = threading.local()


def _audit(event: str, args: tuple) -> None:
    if event == "open" and getattr(_watching, "on", False) and isinstance(args[0], str | Path):
        mode = args[1] if args[1] is not None else ("w" if args[2] & (os.O_WRONLY | os.O_RDWR) else "r")  # os.open: its flags
        _opens.append((str(args[0]), str(mode)))


sys.addaudithook(_audit)


def test_the_local_store_writes_a_tiny_value_as_one_file(project) -> None:
    """Bug caught: a tiny value staged as files (data, manifest), read back and packed: six opens for one value."""
    from support.stacks import active_stack

    one_tiny.run()  # the store and database exist
    stack = active_stack(project.path)
    store_root = str(project.path / "artifacts")
    _opens.clear()
    _watching.on = True
    try:
        manifest = stack.artifact_store.save("k/tiny", ArtifactWriter(7, {"run_id": "r"}))
    finally:
        _watching.on = False
        stack.close()
    mine = [(path, mode) for path, mode in _opens if path.startswith(store_root)]
    assert len(mine) == 1 and "w" in mine[0][1], mine
    assert Path(manifest.uri).is_file()
