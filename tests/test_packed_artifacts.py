"""Tiny artifacts are one packed file (manifest + data): verified like folders, refused when tampered."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from flowyml import Model, pipeline, step
from flowyml.errors import IntegrityError
from flowyml.serialization.artifact_io import MANIFEST, read_artifact, write_artifact
from flowyml.stores.packed import MAGIC, PACK_LIMIT, is_packed, pack_bytes, unpack


@step
def answer() -> int:
    return 42


@step
def big_text() -> str:
    return "x" * (2 * PACK_LIMIT)


@step
def add_one(value: int) -> int:
    return value + 1


@pipeline
def tiny() -> None:
    add_one(answer())
    big_text()


def test_a_tiny_value_is_one_file_of_one_block_and_round_trips(project) -> None:
    run = tiny.run()
    assert run.success, run.error
    path = Path(run.artifact("answer").uri)
    assert path.is_file() and is_packed(path)  # no folder, no separate flowyml.json
    assert path.stat().st_size <= PACK_LIMIT
    assert run.load("answer") == 42 and run.load("add_one") == 43
    folder = Path(run.artifact("big_text").uri)  # too large to pack: the folder layout, as before
    assert folder.is_dir() and (folder / MANIFEST).is_file()
    assert run.load("big_text") == "x" * (2 * PACK_LIMIT)
    assert list((project.path / "artifacts" / ".staging").iterdir()) == []  # the reused staging folders go when the run ends
    again = tiny.run()  # a packed output is found by the cache like a folder
    assert [s.status for s in again.steps.values()] == ["cached", "cached", "cached"]
    assert again.load("add_one") == 43


def test_a_tampered_pack_is_refused(project) -> None:
    run = tiny.run()
    path = Path(run.artifact("answer").uri)
    original = path.read_bytes()
    path.write_bytes(original[:-2] + b"99")  # the value's bytes end the pack
    with pytest.raises(IntegrityError, match="no longer matches its recorded sha256"):
        run.artifact("answer").load()
    manifest_line = original.split(b"\n")[1]
    edited = json.loads(manifest_line)
    edited["python_type"] = "builtins.str"  # how it is read: covered by the recorded content hash
    path.write_bytes(original.replace(manifest_line, json.dumps(edited).encode()))
    with pytest.raises(IntegrityError, match="does not match its record"):
        run.artifact("answer").load()
    path.write_bytes(original[: len(original) // 2])  # truncated
    with pytest.raises(IntegrityError, match="malformed"):
        run.artifact("answer").load()
    path.write_bytes(original)
    assert run.artifact("answer").load() == 42


def test_a_folder_artifact_of_a_tiny_value_still_loads(project) -> None:
    """Artifacts written before the packed layout are folders: they load as they always did."""
    run = tiny.run()
    path = Path(run.artifact("answer").uri)
    folder = path.with_name("unpacked")
    unpack(path.read_bytes(), folder, str(path))
    path.unlink()
    folder.rename(path)
    assert path.is_dir() and run.artifact("answer").load() == 42


def test_unpacking_writes_only_the_listed_plain_names(tmp_path: Path) -> None:
    folder = tmp_path / "a"
    folder.mkdir()
    write_artifact({"k": 1}, folder)
    packed = pack_bytes(folder)
    assert packed is not None and packed.startswith(MAGIC)
    assert read_artifact(unpack(packed, tmp_path / "ok", "ok"), json.loads((folder / MANIFEST).read_text())["content_hash"]) == {"k": 1}
    manifest = json.loads((folder / MANIFEST).read_text())
    (name, info), = manifest["files"].items()
    for evil in ("../escaped", "/tmp/escaped", "sub/dir"):
        hostile = dict(manifest, files={evil: info})
        data = MAGIC + json.dumps(hostile).encode() + b"\n" + (folder / name).read_bytes()
        scratch = tmp_path / "scratch" / "inner"
        with pytest.raises(IntegrityError, match="malformed"):
            unpack(data, scratch, "hostile")
        assert not (tmp_path / "scratch" / "escaped").exists() and not scratch.exists()
    shutil.rmtree(tmp_path / "scratch", ignore_errors=True)


def test_models_and_larger_artifacts_stay_folders(tmp_path: Path) -> None:
    model = tmp_path / "m"
    model.mkdir()
    write_artifact(Model(b"tiny weights", name="m"), model)
    assert pack_bytes(model, keep_as_folder=frozenset({"Model"})) is None  # the local model server reads folders
    big = tmp_path / "b"
    big.mkdir()
    write_artifact(b"\0" * PACK_LIMIT, big)
    assert pack_bytes(big) is None
