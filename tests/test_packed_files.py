"""The packed layout as a file (flowyml.stores.packed.pack_file / unpack_file): streamed, same bytes as pack_bytes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowyml.core import Model
from flowyml.errors import IntegrityError
from flowyml.serialization.artifact_io import MANIFEST, read_artifact, write_artifact
from flowyml.stores.packed import MAGIC, pack_bytes, pack_file, unpack_file


def written(folder: Path, value: object) -> str:
    folder.mkdir()
    return str(write_artifact(value, folder)["content_hash"])


def test_pack_file_writes_what_pack_bytes_returns_and_unpacks_in_place(tmp_path: Path) -> None:
    content_hash = written(tmp_path / "a", {"k": list(range(20))})
    out = tmp_path / "packed"
    assert pack_file(tmp_path / "a", out, limit=1 << 20)
    assert out.read_bytes() == pack_bytes(tmp_path / "a")
    # a store downloads the object to scratch/flowyml.json and unpacks it there
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (scratch / MANIFEST).write_bytes(out.read_bytes())
    unpack_file(scratch / MANIFEST, scratch, "s3://b/a")
    assert (scratch / MANIFEST).read_bytes() == (tmp_path / "a" / MANIFEST).read_bytes()
    assert read_artifact(scratch, expected_hash=content_hash) == {"k": list(range(20))}


def test_pack_file_leaves_folders_alone(tmp_path: Path) -> None:
    out = tmp_path / "packed"
    written(tmp_path / "model", Model(b"weights", name="m"))
    assert not pack_file(tmp_path / "model", out, 1 << 20, keep_as_folder=frozenset({"Model"}))
    written(tmp_path / "big", b"\0" * 5000)
    assert not pack_file(tmp_path / "big", out, 5000)  # over the limit with its manifest
    assert pack_file(tmp_path / "big", out, 1 << 20)
    out.unlink()
    nested = tmp_path / "nested"
    written(nested, b"x")
    (nested / "sub").mkdir()
    assert not pack_file(nested, out, 1 << 20)
    (nested / "sub").rmdir()
    data = next(p for p in nested.iterdir() if p.name != MANIFEST)
    data.write_bytes(b"xy")  # its size no longer matches the manifest: it would not unpack
    assert not pack_file(nested, out, 1 << 20)
    assert not out.exists()


def test_unpack_file_refuses_a_first_line_longer_than_allowed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import flowyml.stores.packed as packed

    monkeypatch.setattr(packed, "MAX_MANIFEST_LINE", 64)
    pack = tmp_path / "p"
    pack.write_bytes(MAGIC + json.dumps({"files": {}, "pad": "x" * 100}).encode() + b"\n")
    with pytest.raises(IntegrityError, match="manifest line is not terminated"):
        unpack_file(pack, tmp_path / "scratch", "p")
    assert not (tmp_path / "scratch").exists()
