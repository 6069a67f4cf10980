"""What an artifact's recorded content hash covers, and the checks made before anything is read.

The content hash recorded with a run is a sha256 over a canonical form of
everything that decides how the artifact is read back: the manifest format
version, the artifact type, the serializer, the Python type, and each file's
name and hash (sha256, or BLAKE3 marked as such: :mod:`flowyml.serialization.digests`). A reader recomputes it from the manifest and compares it with
the hash its trusted record holds (the run record in the metadata store, a
step record, a registry entry) before any serializer touches a file, so an
edited manifest (another serializer, another file name) is refused just like
edited bytes.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from flowyml.errors import IntegrityError, SerializationError
from flowyml.serialization import digests

#: The manifest format this FlowyML writes (and the newest it reads).
FORMAT_VERSION = 2
#: Format 1 recorded a hash over the files only (see :func:`legacy_hash`).
LEGACY_FORMAT = 1


@attrs.frozen
class Expected:
    """What a trusted record says about an artifact; ``None`` fields are unknown.

    ``label`` names the artifact in error messages (``train.output of run R``).
    """

    content_hash: str | None = None
    serializer: str | None = None
    python_type: str | None = None
    artifact_type: str | None = None
    label: str | None = None

    @classmethod
    def of(cls, value: str | Expected | None) -> Expected:
        if isinstance(value, Expected):
            return value
        return cls(content_hash=value or None)


def canonical_form(manifest: Mapping[str, Any]) -> str:
    """The text the content hash is computed over (sorted keys, no whitespace, ASCII only)."""
    files = manifest.get("files") or {}
    body = {
        "format_version": manifest.get("format_version"),
        "artifact_type": manifest.get("artifact_type"),
        "serializer": manifest.get("serializer"),
        "python_type": manifest.get("python_type"),
        "files": {str(name): digests.canonical(info or {}) for name, info in files.items()},
    }
    return "flowyml-artifact\n" + json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def canonical_hash(manifest: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_form(manifest).encode("ascii")).hexdigest()


def legacy_hash(files: Mapping[str, Mapping[str, Any]]) -> str:
    """Format 1's content hash: the single file's sha256, or a hash over names and hashes."""
    if len(files) == 1:
        return str(next(iter(files.values())).get("sha256"))  # format 1 knew sha256 only
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(f"{name}\0{files[name].get('sha256')}\n".encode())
    return digest.hexdigest()


def recorded_hash(manifest: Mapping[str, Any]) -> str:
    """The content hash a manifest's own fields give, by its format version."""
    if manifest.get("format_version") == LEGACY_FORMAT:
        return legacy_hash(manifest["files"])
    return canonical_hash(manifest)


def check_manifest(directory: Path, manifest: Any, expected: Expected, *, unsafe: bool) -> None:
    """Refuse a manifest its trusted record does not vouch for. Reads no data file.

    ``unsafe`` tells whether the serializer the manifest names can run code
    when loading (pickle).
    """
    what = _what(directory, expected)
    _check_shape(manifest, what)
    version = manifest["format_version"]
    if version > FORMAT_VERSION:
        raise SerializationError(
            f"{what} was written in artifact format {version}; this FlowyML reads formats up to {FORMAT_VERSION}",
            hint="upgrade flowyml where you load it (the artifact was written by a newer release)",
        )
    differences = [
        f"{field}: the record says {want!r}, the manifest says {manifest.get(field)!r}"
        for field, want in (
            ("serializer", expected.serializer),
            ("python_type", expected.python_type),
            ("artifact_type", expected.artifact_type),
        )
        if want is not None and manifest.get(field) != want
    ]
    if expected.content_hash:
        actual = recorded_hash(manifest)
        if actual != expected.content_hash:
            differences.append(
                f"content hash: the run recorded {expected.content_hash[:16]}…, the manifest's "
                f"{'files' if version == LEGACY_FORMAT else 'format, type, serializer and files'} give {actual[:16]}…"
            )
    if differences:
        raise IntegrityError(
            f"{what} does not match its record ({'; '.join(differences)}); refusing to load it",
            hint="the artifact was replaced or edited after it was written; re-run the step that produced it",
        )
    if unsafe and not expected.content_hash:
        raise IntegrityError(
            f"{what} holds a {manifest['serializer']} artifact, which can run code when loaded, and no run record "
            "vouches for its content hash; refusing to load it",
            hint="load it through the run that produced it (run.load(...) or the artifact's .load())",
        )
    if unsafe and version == LEGACY_FORMAT and expected.serializer is None:
        raise IntegrityError(
            f"{what} is a format-1 {manifest['serializer']} artifact: its recorded hash does not cover the "
            "serializer, and no run record names one; refusing to load it",
            hint="load it through the run that produced it (run.load(...)), or re-run that step to store it in the current format",
        )


def _what(directory: Path, expected: Expected) -> str:
    return f"artifact {expected.label} ({directory})" if expected.label else f"artifact at {directory}"


def _check_shape(manifest: Any, what: str) -> None:
    """The fields a reader relies on exist and have their types; file names stay inside the folder."""
    problem = None
    if not isinstance(manifest, dict):
        problem = "the manifest is not a JSON object"
    elif isinstance(manifest.get("format_version"), bool) or not isinstance(manifest.get("format_version"), int):
        problem = f"format_version is {manifest.get('format_version')!r}, not an integer"
    elif not isinstance(manifest.get("serializer"), str):
        problem = "it names no serializer"
    elif not isinstance(manifest.get("files"), dict) or not manifest["files"]:
        problem = "it lists no file"
    else:
        for name, info in manifest["files"].items():
            if not isinstance(info, dict) or digests.recorded(info) is None:
                problem = f"file {name!r} has no hash (one of {', '.join(digests.ALGORITHMS)}, as text)"
                break
            if not _inside(name):
                problem = f"file name {name!r} points outside the artifact folder"
                break
    if problem:
        raise IntegrityError(f"{what} has a malformed manifest: {problem}; refusing to load it",
                             hint="the artifact was edited or is not a FlowyML artifact; re-run the step that produced it")


def _inside(name: str) -> bool:
    if not name or "\\" in name or "\0" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return False
    return ".." not in posixpath.normpath(name).split("/") and not posixpath.normpath(name).startswith("/")


def check_files(directory: Path, manifest: Mapping[str, Any], expected: Expected, digest_of: Any) -> None:
    """Every file the manifest lists exists and has its recorded hash (``digest_of(path, algorithm)``)."""
    what = _what(directory, expected)
    for name, info in manifest["files"].items():
        path = directory / name
        if not path.is_file():
            raise IntegrityError(f"{what}: file {name} is missing", hint="re-run the step that produced it")
        algorithm, want = digests.recorded(info) or ("sha256", "")
        actual = digest_of(path, algorithm)
        if actual != want:
            raise IntegrityError(
                f"{what}: file {name} no longer matches its recorded {algorithm} (expected {want[:12]}…, "
                f"found {actual[:12]}…); refusing to load it",
                hint="the file was modified or corrupted after it was written; re-run the step that produced it",
            )
