"""Writing an artifact directory (data files + ``flowyml.json`` manifest) and reading it back."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from flowyml.core.artifacts import ARTIFACT_TYPES, Artifact, Dataset, Metrics, Parameters
from flowyml.errors import IntegrityError, SerializationError
from flowyml.serialization import digests
from flowyml.serialization.base import type_path
from flowyml.serialization.integrity import (
    FORMAT_VERSION,
    Expected,
    canonical_hash,
    check_files,
    check_manifest,
)
from flowyml.serialization.registry import get_registry

__all__ = [
    "FORMAT_VERSION", "MANIFEST", "Expected", "build_manifest", "read_artifact", "read_manifest", "serializer_for", "verify",
    "write_artifact", "write_manifest",
]

MANIFEST = "flowyml.json"


def file_sha256(path: Path) -> str:
    """The sha256 hex digest of a file (what earlier releases recorded for every file)."""
    return digests.of_file(path, "sha256")


def artifact_type_of(value: Any) -> str:
    return value.type_name if isinstance(value, Artifact) else "Value"


def serializer_for(value: Any) -> tuple[Any, Any]:
    """The payload of ``value`` (what gets serialized) and the serializer that writes it."""
    registry = get_registry()
    if isinstance(value, Metrics | Parameters):
        payload: Any = dict(value.data)
        serializer = registry.by_name("json") if registry.by_name("json").can_save(payload) else registry.for_value(payload)
    elif isinstance(value, Artifact):
        payload = value.data
        fmt = value.format if isinstance(value, Dataset) and value.format_given else None
        serializer = registry.for_value(payload, fmt)
    else:
        payload = value
        serializer = registry.for_value(payload)
    return payload, serializer


def write_artifact(value: Any, directory: Path, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Serialize ``value`` into ``directory``; write the manifest last and return it."""
    payload, serializer = serializer_for(value)
    hashed = serializer.save(payload, directory) or {}
    files: dict[str, dict[str, Any]] = {}
    for rel, path in _list_files(directory):
        if rel != MANIFEST:
            algorithm = serializer.hash_algorithm
            recorded = digests.entry(hashed[rel]) if hashed.get(rel) else {algorithm: digests.of_file(path, algorithm)}
            files[rel] = {**recorded, "size": path.stat().st_size}
    manifest = build_manifest(value, payload, serializer, files, extra)
    write_manifest(directory, manifest)
    return manifest


def write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    """Write ``flowyml.json`` into ``directory`` (renamed into place: never seen half written)."""
    tmp = directory / (MANIFEST + ".tmp")
    tmp.write_bytes(manifest_bytes(manifest))
    os.replace(tmp, directory / MANIFEST)


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """The bytes of ``flowyml.json`` for ``manifest`` (one line of JSON)."""
    return json.dumps(manifest, default=str).encode("utf-8")


def build_manifest(
    value: Any, payload: Any, serializer: Any, files: dict[str, dict[str, Any]], extra: dict[str, Any] | None
) -> dict[str, Any]:
    """The manifest of ``value`` written by ``serializer`` as ``files`` ({name: {sha256 or blake3, size}}), hash included."""
    if not files:
        raise SerializationError(f"serializer {serializer.name!r} wrote no file for a {type_path(payload)}")
    manifest = {
        "format_version": FORMAT_VERSION,
        "artifact_type": artifact_type_of(value),
        "serializer": serializer.name,
        "safe": serializer.safe,
        "python_type": type_path(payload),
        "files": files,
        "size": sum(f["size"] for f in files.values()),
        "created_at": time.time(),
        "artifact": _describe(value, serializer.name),
        **(extra or {}),
    }
    manifest["content_hash"] = canonical_hash(manifest)
    return manifest


def _describe(value: Any, serializer: str) -> dict[str, Any]:
    if not isinstance(value, Artifact):
        return {}
    described = value.describe()
    if isinstance(value, Dataset):
        described["format"] = serializer  # the format actually written
    return described


def _list_files(directory: Path) -> list[tuple[str, Path]]:
    """Files below ``directory`` as (posix relative path, path), sorted."""
    found = []
    for folder, _, names in os.walk(directory):
        base = Path(folder)
        for name in names:
            path = base / name
            found.append((path.relative_to(directory).as_posix(), path))
    return sorted(found)


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    if not path.is_file():
        raise SerializationError(
            f"{directory} holds no complete artifact (no {MANIFEST})",
            hint="the write was interrupted, or this is not a FlowyML artifact",
        )
    try:
        # its shape (an object with the manifest's fields) is checked by verify() before anything uses it
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise IntegrityError(
            f"the manifest of the artifact at {directory} is not valid JSON ({exc}); refusing to load it",
            hint="the artifact was edited or corrupted after it was written; re-run the step that produced it",
        ) from exc
    return manifest


def verify(directory: Path, manifest: dict[str, Any], expected: str | Expected | None) -> None:
    """Check the manifest against the trusted record, then every file against the manifest.

    Raises :class:`IntegrityError` (or :class:`SerializationError` for a newer
    format or a serializer that is not installed) before anything is deserialized.
    """
    record = Expected.of(expected)
    name = manifest.get("serializer") if isinstance(manifest, dict) else None
    installed: dict[str, Any] = {}
    for serializer in get_registry().serializers():
        installed.setdefault(serializer.name, serializer)  # the first of a name is the one by_name() returns
    unsafe = name in installed and not installed[name].safe  # an unknown name fails after the checks, naming the plugin
    check_manifest(directory, manifest, record, unsafe=unsafe)
    check_files(directory, manifest, record, digests.of_file)


def read_artifact(directory: Path, expected_hash: str | Expected | None = None) -> Any:
    """Load the value stored in ``directory``, verifying how it is read and its bytes first.

    ``expected_hash`` is what a trusted record says: the content hash (a
    string), or an :class:`Expected` that also names the serializer and types.
    Without a recorded hash only serializers that cannot run code are used.
    """
    manifest = read_manifest(directory)
    verify(directory, manifest, expected_hash)
    serializer = get_registry().by_name(manifest["serializer"])
    kind = manifest.get("artifact_type", "Value")
    if kind != "Value" and kind not in ARTIFACT_TYPES:
        raise IntegrityError(
            f"the artifact at {directory} claims the unknown artifact type {kind!r}; refusing to load it",
            hint=f"artifact types: {', '.join(ARTIFACT_TYPES)}; the manifest was edited, re-run the step that produced it",
        )
    payload = serializer.load(directory, manifest)
    if kind == "Value":
        return payload
    described = manifest.get("artifact")
    # Stored values were checked when they were created: restored as they are, so an
    # artifact written by an older release (under older rules) still loads.
    return ARTIFACT_TYPES[kind].restore(payload, described if isinstance(described, dict) else {})
