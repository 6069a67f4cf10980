"""The local store's save: what it finds at the destination, and the staging folders it reuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowyml.errors import StoreError
from flowyml.serialization.artifact_io import MANIFEST
from flowyml.stores.packed import is_packed, unpack
from flowyml.testing import make_stack

LOCAL = {"artifact_store": {"type": "local", "path": "./artifacts"}}


def staged_writer(files: dict[str, bytes]):
    """A plain function writer (no in-memory pack): it stages its files, as third-party code may."""

    def write(directory: Path) -> None:
        for name, data in files.items():
            (directory / name).write_bytes(data)
        manifest = {"format_version": 2, "serializer": "binary", "files": {n: {"sha256": "0", "size": len(d)} for n, d in files.items()}}
        (directory / MANIFEST).write_text(json.dumps(manifest))

    return write


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    stack = make_stack(tmp_path, LOCAL)
    yield stack
    stack.close()


def save(stack, key: str, write) -> Path:
    return Path(stack.hook.flowyml_artifact_store_save(key=key, write=write))


def test_a_folder_left_without_a_manifest_is_replaced(stack, tmp_path: Path) -> None:
    interrupted = tmp_path / "artifacts" / "r" / "a"
    interrupted.mkdir(parents=True)
    (interrupted / "data.bin.partial").write_bytes(b"half")
    dest = save(stack, "r/a", staged_writer({"data.bin": b"whole"}))
    assert dest == interrupted and is_packed(dest)
    assert sorted(p.name for p in unpack(dest.read_bytes(), tmp_path / "out", str(dest)).iterdir()) == ["data.bin", MANIFEST]


@pytest.mark.parametrize("existing", ["a packed file", "a folder with its manifest", "a plain file"])
def test_an_artifact_at_the_destination_is_never_overwritten(stack, tmp_path: Path, existing: str) -> None:
    dest = tmp_path / "artifacts" / "r" / "a"
    dest.parent.mkdir(parents=True)
    if existing == "a packed file":
        save(stack, "r/a", staged_writer({"data.bin": b"first"}))
    elif existing == "a folder with its manifest":
        dest.mkdir()
        (dest / MANIFEST).write_text("{}")
    else:
        dest.write_bytes(b"someone's file")
    before = dest.read_bytes() if dest.is_file() else (dest / MANIFEST).read_bytes()
    with pytest.raises(StoreError, match="an artifact already exists at .*refusing to overwrite it"):
        save(stack, "r/a", staged_writer({"data.bin": b"second"}))
    assert (dest.read_bytes() if dest.is_file() else (dest / MANIFEST).read_bytes()) == before


def test_a_reused_staging_folder_carries_nothing_into_the_next_artifact(stack, tmp_path: Path) -> None:
    first = save(stack, "r/one", staged_writer({"one.bin": b"1"}))
    second = save(stack, "r/two", staged_writer({"two.bin": b"2"}))
    names = sorted(p.name for p in unpack(second.read_bytes(), tmp_path / "out2", str(second)).iterdir())
    assert names == [MANIFEST, "two.bin"], names  # not one.bin from the first save's staging
    assert is_packed(first)
