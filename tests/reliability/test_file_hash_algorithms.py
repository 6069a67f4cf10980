"""Files recorded under BLAKE3 (the built-in streaming serializers) and sha256 (earlier releases, small values).

Each manifest entry names its algorithm; the content hash covers that name, so
an attacker who edits a file and records a matching hash under the other
algorithm is refused like any other edit. Artifacts written before BLAKE3
(sha256 entries) keep their content hash and load as they did.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

import pytest
from blake3 import blake3

from flowyml.errors import IntegrityError
from flowyml.serialization import digests
from flowyml.serialization.artifact_io import MANIFEST, read_artifact, write_artifact
from flowyml.serialization.hashing import HashingFile
from flowyml.serialization.integrity import canonical_form, canonical_hash


def stored(tmp_path: Path, value: object) -> tuple[Path, dict]:
    folder = tmp_path / "a"
    folder.mkdir()
    return folder, write_artifact(value, folder)


def rewrite(folder: Path, manifest: dict) -> None:
    (folder / MANIFEST).write_text(json.dumps(manifest))


def test_streaming_serializers_record_blake3_and_small_text_values_sha256(tmp_path: Path) -> None:
    folder, manifest = stored(tmp_path, b"\x00" * 10_000)
    data = (folder / "data.bin").read_bytes()
    assert manifest["files"]["data.bin"] == {"blake3": blake3(data).hexdigest(), "size": 10_000}
    other = tmp_path / "b"
    other.mkdir()
    small = write_artifact({"a": 1}, other)
    (name,) = small["files"]
    assert small["files"][name]["sha256"] == hashlib.sha256((other / name).read_bytes()).hexdigest()
    assert read_artifact(folder, manifest["content_hash"]) == b"\x00" * 10_000


def test_an_edited_blake3_file_is_refused_naming_the_algorithm(tmp_path: Path) -> None:
    folder, manifest = stored(tmp_path, b"\x01" * 10_000)
    (folder / "data.bin").write_bytes(b"\x02" * 10_000)
    with pytest.raises(IntegrityError, match="no longer matches its recorded blake3"):
        read_artifact(folder, manifest["content_hash"])


def test_switching_an_entry_to_the_other_algorithm_is_refused(tmp_path: Path) -> None:
    """New bytes, their correct sha256 in place of the blake3 entry, content_hash field recomputed: the record still wins."""
    marker = tmp_path / "pwned"
    folder, manifest = stored(tmp_path, {"not": "a pickle"} | {"pad": "x" * 5000})
    assert manifest["serializer"] == "json"  # sha256 entry; switch it to blake3 with edited bytes
    evil = pickle.dumps(marker)
    (name,) = manifest["files"]
    (folder / name).write_bytes(evil)
    edited = dict(manifest, files={name: {"blake3": blake3(evil).hexdigest(), "size": len(evil)}})
    edited["content_hash"] = canonical_hash(edited)
    rewrite(folder, edited)
    with pytest.raises(IntegrityError, match="content hash"):
        read_artifact(folder, manifest["content_hash"])

    folder2 = tmp_path / "c"
    folder2.mkdir()
    written = write_artifact(b"\x03" * 10_000, folder2)  # blake3 entry; switch it to sha256
    (folder2 / "data.bin").write_bytes(b"\x04" * 10_000)
    edited = dict(written, files={"data.bin": {"sha256": hashlib.sha256(b"\x04" * 10_000).hexdigest(), "size": 10_000}})
    edited["content_hash"] = canonical_hash(edited)
    rewrite(folder2, edited)
    with pytest.raises(IntegrityError, match="content hash"):
        read_artifact(folder2, written["content_hash"])
    assert not marker.exists()


def test_the_same_hex_under_either_algorithm_gives_different_content_hashes() -> None:
    base = {"format_version": 2, "artifact_type": "Value", "serializer": "binary", "python_type": "builtins.bytes"}
    as_sha = canonical_hash({**base, "files": {"data.bin": {"sha256": "ab" * 32}}})
    as_blake = canonical_hash({**base, "files": {"data.bin": {"blake3": "ab" * 32}}})
    assert as_sha != as_blake


def test_sha256_entries_keep_the_content_hash_earlier_releases_recorded() -> None:
    """The canonical form of a sha256-only manifest is byte for byte the one every earlier artifact was recorded with."""
    manifest = {"format_version": 2, "artifact_type": "Dataset", "serializer": "parquet", "python_type": "pandas.DataFrame",
                "files": {"data.parquet": {"sha256": "0f" * 32, "size": 3}}}
    assert canonical_form(manifest) == (
        'flowyml-artifact\n{"artifact_type":"Dataset","files":{"data.parquet":"' + "0f" * 32 + '"},"format_version":2,'
        '"python_type":"pandas.DataFrame","serializer":"parquet"}'
    )
    assert canonical_hash(manifest) == hashlib.sha256(canonical_form(manifest).encode()).hexdigest()


def test_an_artifact_recorded_with_sha256_still_loads(tmp_path: Path) -> None:
    """What a release before BLAKE3 wrote for a bytes value (sha256 entry) loads, and an edit to it is still caught."""
    folder, manifest = stored(tmp_path, b"\x05" * 10_000)
    old = dict(manifest, files={"data.bin": {"sha256": hashlib.sha256(b"\x05" * 10_000).hexdigest(), "size": 10_000}})
    old["content_hash"] = canonical_hash(old)
    rewrite(folder, old)
    assert read_artifact(folder, old["content_hash"]) == b"\x05" * 10_000
    (folder / "data.bin").write_bytes(b"\x06" * 10_000)
    with pytest.raises(IntegrityError, match="no longer matches its recorded sha256"):
        read_artifact(folder, old["content_hash"])


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        ({"sha256": "ab" * 32, "blake3": "ab" * 32, "size": 1}, "both algorithms"),
        ({"md5": "ab" * 16, "size": 1}, "an unknown algorithm"),
        ({"blake3": 12, "size": 1}, "a hash that is not text"),
        ({"size": 1}, "no hash"),
    ],
)
def test_an_entry_must_name_exactly_one_known_algorithm(tmp_path: Path, entry: dict, why: str) -> None:
    folder, manifest = stored(tmp_path, b"\x07" * 10_000)
    edited = dict(manifest, files={"data.bin": entry})
    rewrite(folder, edited)
    with pytest.raises(IntegrityError, match=r"malformed manifest: file 'data.bin' has no hash \(one of sha256, blake3"):
        read_artifact(folder, manifest["content_hash"])


def test_hashing_file_names_its_algorithm(tmp_path: Path) -> None:
    with HashingFile(tmp_path / "x", algorithm="blake3") as out:
        out.write(b"abc")
    assert out.file_hash == "blake3:" + blake3(b"abc").hexdigest()
    with pytest.raises(RuntimeError, match="computes blake3, not sha256"):
        _ = out.sha256
    with HashingFile(tmp_path / "y") as plain:
        plain.write(b"abc")
    assert plain.file_hash == plain.sha256 == hashlib.sha256(b"abc").hexdigest()
    with pytest.raises(ValueError, match="unknown file hash algorithm 'md5'"):
        HashingFile(tmp_path / "z", algorithm="md5")
    assert not (tmp_path / "z").exists()


def test_a_serializer_hash_is_read_by_its_prefix() -> None:
    assert digests.entry("ab" * 32) == {"sha256": "ab" * 32}
    assert digests.entry("blake3:" + "cd" * 32) == {"blake3": "cd" * 32}
    with pytest.raises(ValueError, match=r"unknown file hash algorithm 'md5' in 'md5:00' \(known: sha256, blake3\)"):
        digests.entry("md5:00")
    for bad in ("ab" * 31, "AB" * 32, "X" + "a" * 63, "blake3:" + "cd" * 31 + "c:", "blake3:" + "xy" * 32):
        with pytest.raises(ValueError, match="is not a (sha256|blake3) digest"):
            digests.entry(bad)


@pytest.mark.parametrize("algorithm", digests.ALGORITHMS)
def test_of_bytes_is_the_digest_a_file_of_those_bytes_records(tmp_path: Path, algorithm: str) -> None:
    """Bug caught: a packed artifact's in-memory files hashed other than the same bytes on disk."""
    data = b"flowyml" * 1000
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    expected = hashlib.sha256(data).hexdigest() if algorithm == "sha256" else blake3(data).hexdigest()
    assert digests.of_bytes(data, algorithm) == digests.of_file(path, algorithm) == expected
