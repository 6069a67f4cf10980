"""The packed layout: a small artifact as one file holding its manifest and its data files.

A folder artifact costs a disk block for the folder, one for each data file
and one for ``flowyml.json``: 12 KiB for a one-integer value on a 4 KiB-block
disk. A store may instead write an artifact whose files are small as a single
file of at most :data:`PACK_LIMIT` bytes (one block)::

    flowyml-packed-artifact 1\\n
    <the manifest, byte for byte as write_artifact wrote flowyml.json>\\n
    <each data file's bytes, in the order of the manifest's sorted names>

Nothing about the artifact changes: the manifest is the same format-2
manifest with the same content hash, so a reader :func:`unpack`\\ s it into a
scratch folder and verifies and reads it exactly as a folder artifact
(:func:`flowyml.serialization.artifact_io.read_artifact`). Unpacking writes
only plain file names the manifest lists, with the sizes it records; anything
else is refused as a malformed artifact. A tampered pack is refused by the
usual checks (the manifest against the run record, each file against its
sha256).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from flowyml.errors import IntegrityError
from flowyml.serialization.artifact_io import MANIFEST

MAGIC = b"flowyml-packed-artifact 1\n"
#: A packed artifact is at most this many bytes: one block of a 4 KiB-block file system.
PACK_LIMIT = 4096


def plain_name(name: object) -> bool:
    """Whether ``name`` can be a file of a packed artifact: one plain file name, not the manifest's."""
    return isinstance(name, str) and bool(name) and name not in (".", "..", MANIFEST) and not any(c in name for c in "/\\\0")


def pack_bytes(folder: Path, keep_as_folder: frozenset[str] = frozenset()) -> bytes | None:
    """The packed form of the artifact written in ``folder``, or ``None`` when it does not fit in :data:`PACK_LIMIT`.

    Only flat artifacts pack: every file directly in ``folder``, each listed in
    the manifest. Artifacts whose type is in ``keep_as_folder`` never pack (a
    store whose readers need a folder, like the local model server, names them).
    """
    entries = list(os.scandir(folder))
    total = sum(entry.stat().st_size for entry in entries if entry.is_file())
    if total + len(MAGIC) + 1 > PACK_LIMIT or not all(entry.is_file() for entry in entries):
        return None
    manifest_bytes = (folder / MANIFEST).read_bytes()
    if b"\n" in manifest_bytes:
        return None
    names = sorted(entry.name for entry in entries if entry.name != MANIFEST)
    manifest = json.loads(manifest_bytes)
    listed = manifest.get("files") or {}
    if manifest.get("artifact_type") in keep_as_folder or sorted(listed) != names or not all(plain_name(name) for name in names):
        return None
    return b"".join([MAGIC, manifest_bytes, b"\n", *((folder / name).read_bytes() for name in names)])


def pack_files(manifest: bytes, files: dict[str, bytes]) -> bytes:
    """The packed form of an artifact given in memory: its ``flowyml.json`` bytes and its data files.

    The caller checks the size against its limit, the names with
    :func:`plain_name`, and that ``manifest`` lists exactly ``files``.
    """
    if b"\n" in manifest:
        raise ValueError("a packed artifact's manifest must be one line")
    return b"".join([MAGIC, manifest, b"\n", *(files[name] for name in sorted(files))])


def is_packed(path: Path) -> bool:
    """Whether ``path`` is a packed artifact (a file starting with :data:`MAGIC`)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(len(MAGIC)) == MAGIC
    except (IsADirectoryError, FileNotFoundError, NotADirectoryError, PermissionError):
        return False


def unpack(data: bytes, scratch: Path, where: str) -> Path:
    """Write the manifest and data files of the packed artifact ``data`` into ``scratch``; return ``scratch``.

    ``where`` names the artifact in errors. Verification is the reader's, as for any folder.
    """

    def malformed(problem: str) -> IntegrityError:
        return IntegrityError(
            f"the packed artifact at {where} is malformed ({problem}); refusing to load it",
            hint="the artifact was edited or corrupted after it was written; re-run the step that produced it",
        )

    if not data.startswith(MAGIC):
        raise malformed("it does not start with the packed-artifact header")
    end = data.find(b"\n", len(MAGIC))
    if end < 0:
        raise malformed("its manifest line is not terminated")
    manifest_bytes = data[len(MAGIC) : end]
    try:
        files = json.loads(manifest_bytes)["files"]
        sizes = [(name, int(files[name]["size"])) for name in sorted(files)]
    except (ValueError, KeyError, TypeError) as exc:
        raise malformed(f"its manifest does not list its files with their sizes: {exc}") from exc
    body = memoryview(data)[end + 1 :]
    if not all(plain_name(name) and size >= 0 for name, size in sizes) or sum(size for _, size in sizes) != len(body):
        raise malformed("its files do not match the names and sizes its manifest lists")
    scratch.mkdir(parents=True, exist_ok=True)
    offset = 0
    for name, size in sizes:
        (scratch / name).write_bytes(body[offset : offset + size])
        offset += size
    (scratch / MANIFEST).write_bytes(manifest_bytes)
    return scratch


# -- the same layout with a store's own limit (the s3 store's one-object saves) ----------------------


def pack_folder(folder: Path, limit: int, keep_as_folder: frozenset[str] = frozenset()) -> bytearray | None:
    """The packed form of the artifact in ``folder`` when it takes at most ``limit`` bytes, else ``None``.

    The rules of :func:`pack_bytes` (flat, every file listed in the manifest
    with its size, plain names, no type in ``keep_as_folder``) with ``limit``
    in place of :data:`PACK_LIMIT`. Each data file is read straight into its
    place in one buffer of exactly the pack's size: the artifact is in memory
    once, as it would be for a single-request upload of its file.
    """
    entries = list(os.scandir(folder))
    if not all(entry.is_file(follow_symlinks=False) for entry in entries):
        return None
    sizes = {entry.name: entry.stat(follow_symlinks=False).st_size for entry in entries}
    if MANIFEST not in sizes or sum(sizes.values()) + len(MAGIC) + 1 > limit:
        return None
    manifest_bytes = (folder / MANIFEST).read_bytes()
    if b"\n" in manifest_bytes:
        return None
    try:
        manifest = json.loads(manifest_bytes)
        listed = manifest.get("files") or {}
        recorded = {name: int(info["size"]) for name, info in listed.items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    names = sorted(name for name in sizes if name != MANIFEST)
    if manifest.get("artifact_type") in keep_as_folder or sorted(listed) != names or not all(plain_name(name) for name in names):
        return None
    if any(recorded[name] != sizes[name] for name in names):  # a reader checks the sizes: it would not load
        return None
    header = MAGIC + manifest_bytes + b"\n"
    packed = bytearray(len(header) + sum(sizes[name] for name in names))
    with memoryview(packed) as view:
        view[: len(header)] = header
        offset = len(header)
        for name in names:
            end = offset + sizes[name]
            with open(folder / name, "rb", buffering=0) as fh:
                while offset < end:
                    got = fh.readinto(view[offset:end])
                    if not got:
                        raise OSError(f"{folder / name} ended before the {sizes[name]} bytes it had when packing began")
                    offset += got
    return packed
