"""The packed layout with a store's own limit (flowyml.stores.packed.pack_folder): same bytes as pack_bytes, in memory once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowyml.core import Model
from flowyml.serialization.artifact_io import MANIFEST, read_artifact, write_artifact
from flowyml.stores.packed import MAGIC, pack_bytes, pack_folder, unpack


def written(folder: Path, value: object) -> str:
    folder.mkdir()
    return str(write_artifact(value, folder)["content_hash"])


def by_hand(folder: Path) -> bytes:
    """The packed layout built by hand (pack_bytes stops at 4 KiB)."""
    manifest = (folder / MANIFEST).read_bytes()
    names = sorted(json.loads(manifest)["files"])
    return MAGIC + manifest + b"\n" + b"".join((folder / name).read_bytes() for name in names)


def test_pack_folder_builds_what_pack_bytes_builds(tmp_path: Path) -> None:
    content_hash = written(tmp_path / "a", {"k": list(range(20))})
    packed = pack_folder(tmp_path / "a", limit=1 << 20)
    assert packed is not None and bytes(packed) == pack_bytes(tmp_path / "a")
    assert read_artifact(unpack(bytes(packed), tmp_path / "scratch", "s3://b/a"), expected_hash=content_hash) == {"k": list(range(20))}
    value = b"".join(bytes([i]) * 70_000 for i in range(40))  # larger than PACK_LIMIT and than one read
    content_hash = written(tmp_path / "big", value)
    packed = pack_folder(tmp_path / "big", limit=1 << 24)
    assert packed is not None and bytes(packed) == by_hand(tmp_path / "big")
    assert read_artifact(unpack(bytes(packed), tmp_path / "scratch-big", "p"), expected_hash=content_hash) == value


def test_pack_folder_leaves_folders_alone(tmp_path: Path) -> None:
    written(tmp_path / "model", Model(b"weights", name="m"))
    assert pack_folder(tmp_path / "model", 1 << 20, keep_as_folder=frozenset({"Model"})) is None
    written(tmp_path / "big", b"\0" * 5000)
    assert pack_folder(tmp_path / "big", 5000) is None  # over the limit with its manifest
    assert pack_folder(tmp_path / "big", 1 << 20) is not None
    nested = tmp_path / "nested"
    written(nested, b"x")
    (nested / "sub").mkdir()
    assert pack_folder(nested, 1 << 20) is None
    (nested / "sub").rmdir()
    data = next(p for p in nested.iterdir() if p.name != MANIFEST)
    data.write_bytes(b"xy")  # its size no longer matches the manifest: it would not unpack
    assert pack_folder(nested, 1 << 20) is None
    (nested / MANIFEST).unlink()
    assert pack_folder(nested, 1 << 20) is None  # no manifest: not an artifact


MEMORY_SCRIPT = """
import json, sys
from pathlib import Path
from flowyml.stores.packed import pack_folder
folder = Path(sys.argv[1])
def status(field):  # KiB, from Linux's /proc
    return int(next(l for l in open("/proc/self/status") if l.startswith(field + ":")).split()[1])
before = status("VmRSS")
packed = pack_folder(folder, 64 * 2**20)
assert packed is not None
print(json.dumps({"grew_kib": status("VmHWM") - before, "size": len(packed)}))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmRSS from /proc (Linux)")
def test_pack_folder_holds_the_artifact_in_memory_once(tmp_path: Path) -> None:
    import subprocess
    import sys

    folder = tmp_path / "a"
    folder.mkdir()
    size = 32 * 2**20
    with open(folder / "data.bin", "wb") as out:
        for i in range(size // 2**20):
            out.write(bytes([i % 251]) * 2**20)
    (folder / MANIFEST).write_text(json.dumps({"files": {"data.bin": {"sha256": "0" * 64, "size": size}}}))
    done = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(folder)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["size"] > size
    grew = result["grew_kib"] * 1024
    assert grew < size + 4 * 2**20, f"peak RSS grew by {grew / 2**20:.0f} MiB packing a 32 MiB artifact"
