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


MEMORY_SCRIPT = """
import json, sys
from pathlib import Path
from flowyml.stores.packed import pack_file, unpack_file
folder, out, scratch = (Path(p) for p in sys.argv[1:4])
def status(field):  # KiB, from Linux's /proc
    return int(next(l for l in open("/proc/self/status") if l.startswith(field + ":")).split()[1])
before = status("VmRSS")
assert pack_file(folder, out, 64 * 2**20)
unpack_file(out, scratch, "pack")
print(json.dumps({"grew_kib": status("VmHWM") - before}))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmRSS from /proc (Linux)")
def test_packing_and_unpacking_a_large_artifact_never_holds_it_in_memory(tmp_path: Path) -> None:
    import subprocess
    import sys

    from flowyml.serialization.artifact_io import file_sha256

    folder = tmp_path / "a"
    folder.mkdir()
    size = 48 * 2**20
    with open(folder / "data.bin", "wb") as out:
        for i in range(size // 2**20):
            out.write(bytes([i % 251]) * 2**20)
    digest = file_sha256(folder / "data.bin")
    (folder / MANIFEST).write_text(json.dumps({"files": {"data.bin": {"sha256": digest, "size": size}}}))
    done = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, str(folder), str(tmp_path / "packed"), str(tmp_path / "scratch")],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    grew = json.loads(done.stdout.strip().splitlines()[-1])["grew_kib"] * 1024
    assert grew < 8 * 2**20, f"peak RSS grew by {grew / 2**20:.0f} MiB packing and unpacking a 48 MiB artifact"
    assert file_sha256(tmp_path / "scratch" / "data.bin") == digest


def test_without_kernel_copies_the_same_bytes_are_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where copy_file_range is missing or refuses the two files (EXDEV, EINVAL), the copy goes through a 1 MiB buffer."""
    import errno
    import os

    content_hash = written(tmp_path / "a", b"".join(bytes([i]) * 70_000 for i in range(40)))

    def refuse(*args: object, **kwargs: object) -> int:
        raise OSError(errno.EXDEV, "cross-device")

    monkeypatch.setattr(os, "copy_file_range", refuse)
    assert pack_file(tmp_path / "a", tmp_path / "packed", 1 << 24)
    assert (tmp_path / "packed").read_bytes() == pack_bytes_unlimited(tmp_path / "a")
    scratch = unpack_file(tmp_path / "packed", tmp_path / "scratch", "p")
    assert read_artifact(scratch, expected_hash=content_hash) == b"".join(bytes([i]) * 70_000 for i in range(40))


def pack_bytes_unlimited(folder: Path) -> bytes:
    """The packed layout built by hand (pack_bytes stops at 4 KiB)."""
    manifest = (folder / MANIFEST).read_bytes()
    names = sorted(json.loads(manifest)["files"])
    return MAGIC + manifest + b"\n" + b"".join((folder / name).read_bytes() for name in names)
