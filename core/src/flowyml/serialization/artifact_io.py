"""Writing an artifact directory (data files + ``flowyml.json`` manifest) and reading it back."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from flowyml.core.artifacts import ARTIFACT_TYPES, Artifact, Dataset, Metrics, Parameters
from flowyml.errors import IntegrityError, SerializationError
from flowyml.serialization.base import type_path
from flowyml.serialization.registry import get_registry

MANIFEST = "flowyml.json"
FORMAT_VERSION = 1
_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb", buffering=0) as fh:
        buf = bytearray(_CHUNK)
        view = memoryview(buf)
        while n := fh.readinto(buf):
            digest.update(view[:n])
    return digest.hexdigest()


def _content_hash(files: dict[str, dict[str, Any]]) -> str:
    if len(files) == 1:
        return next(iter(files.values()))["sha256"]
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(f"{name}\0{files[name]['sha256']}\n".encode())
    return digest.hexdigest()


def artifact_type_of(value: Any) -> str:
    return value.type_name if isinstance(value, Artifact) else "Value"


def write_artifact(value: Any, directory: Path, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Serialize ``value`` into ``directory``; write the manifest last and return it."""
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
    hashed = serializer.save(payload, directory) or {}
    files: dict[str, dict[str, Any]] = {}
    for rel, path in _list_files(directory):
        if rel != MANIFEST:
            files[rel] = {"sha256": hashed.get(rel) or file_sha256(path), "size": path.stat().st_size}
    if not files:
        raise SerializationError(f"serializer {serializer.name!r} wrote no file for a {type_path(payload)}")
    manifest = {
        "format_version": FORMAT_VERSION,
        "artifact_type": artifact_type_of(value),
        "serializer": serializer.name,
        "safe": serializer.safe,
        "python_type": type_path(payload),
        "files": files,
        "content_hash": _content_hash(files),
        "size": sum(f["size"] for f in files.values()),
        "created_at": time.time(),
        "artifact": _describe(value, serializer.name),
        **(extra or {}),
    }
    tmp = directory / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, default=str), encoding="utf-8")
    os.replace(tmp, directory / MANIFEST)
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
    return json.loads(path.read_text(encoding="utf-8"))


def verify(directory: Path, manifest: dict[str, Any], expected_hash: str | None) -> None:
    """Check every file against the manifest, and the manifest against the run record."""
    if expected_hash and manifest.get("content_hash") != expected_hash:
        raise IntegrityError(
            f"artifact at {directory} has content hash {manifest.get('content_hash')}, "
            f"but the run recorded {expected_hash}",
            hint="the artifact was replaced after it was written; re-run the step that produced it",
        )
    for name, info in manifest["files"].items():
        path = directory / name
        if not path.is_file():
            raise IntegrityError(f"artifact file {path} is missing", hint="re-run the step that produced it")
        actual = file_sha256(path)
        if actual != info["sha256"]:
            raise IntegrityError(
                f"artifact file {path} no longer matches its recorded sha256 (expected {info['sha256'][:12]}…, "
                f"found {actual[:12]}…); refusing to load it",
                hint="the file was modified or corrupted after it was written; re-run the step that produced it",
            )


def read_artifact(directory: Path, expected_hash: str | None = None) -> Any:
    """Load the value stored in ``directory``, verifying its bytes first."""
    manifest = read_manifest(directory)
    verify(directory, manifest, expected_hash)
    serializer = get_registry().by_name(manifest["serializer"])
    if not serializer.safe and not expected_hash:
        raise IntegrityError(
            f"{directory} holds a {serializer.name} artifact, which can run code when loaded, and no run record "
            "vouches for its content hash; refusing to load it",
            hint="load it through the run that produced it (run.load(...) or the artifact's .load())",
        )
    payload = serializer.load(directory, manifest)
    kind = manifest.get("artifact_type", "Value")
    attrs = dict(manifest.get("artifact") or {})
    if kind == "Value":
        return payload
    cls = ARTIFACT_TYPES[kind]
    if cls in (Metrics, Parameters):
        obj = cls(payload, name=attrs.get("name"), metadata=attrs.get("metadata"))
        if isinstance(obj, Metrics):
            obj.step = attrs.get("step")
        return obj
    return cls(payload, **{k: v for k, v in attrs.items() if k in _init_fields(cls)})


def _init_fields(cls: type) -> set[str]:
    import inspect

    return set(inspect.signature(cls).parameters) - {"data"}
