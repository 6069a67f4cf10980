"""What an artifact store's save hook receives as ``write``: one value, ready to be written.

Calling it, ``write(directory)``, serializes the value into a staging folder
(data files, then ``flowyml.json``), as the hookspec
:func:`flowyml.plugins.hookspecs.flowyml_artifact_store_save` describes. A store
that keeps small artifacts as one file may first ask for
``write.packed(limit)``: the whole artifact in the packed layout
(:mod:`flowyml.stores.packed`), built in memory without touching the disk,
or ``None`` when it does not fit (then it calls ``write(directory)`` as
usual). Either way :attr:`ArtifactWriter.manifest` is the manifest written.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

from flowyml.serialization import digests
from flowyml.serialization.artifact_io import (
    artifact_type_of,
    build_manifest,
    manifest_bytes,
    serializer_for,
    write_artifact,
    write_manifest,
)
from flowyml.stores.packed import MAGIC, pack_files, plain_name


class ArtifactWriter:
    """Writes ``value`` (with the ``extra`` manifest fields) once, as a folder or as a packed file."""

    def __init__(self, value: Any, extra: dict[str, Any] | None = None) -> None:
        self.value = value
        self.extra = extra
        #: The manifest written, once :meth:`__call__` or a successful :meth:`packed` has run.
        self.manifest: dict[str, Any] | None = None
        self._encoded: tuple[Any, Any, dict[str, bytes]] | None = None  # kept when too large to pack

    def __call__(self, directory: Path) -> dict[str, Any]:
        directory = Path(directory)
        if self._encoded is None:
            self.manifest = write_artifact(self.value, directory, self.extra)
            return self.manifest
        payload, serializer, files = self._encoded  # packed() encoded it already: write those bytes
        for name, data in files.items():
            (directory / name).write_bytes(data)
        self.manifest = build_manifest(self.value, payload, serializer, _described(files, serializer.hash_algorithm), self.extra)
        write_manifest(directory, self.manifest)
        return self.manifest

    def packed(self, limit: int, keep_as_folder: Collection[str] = ()) -> bytes | None:
        """The artifact in the packed layout when it takes at most ``limit`` bytes, else ``None``.

        ``None`` too when the artifact's type is in ``keep_as_folder`` or its
        serializer cannot encode in memory. Encoding a large value stops at
        ``limit`` bytes; files encoded but too large to pack are kept for the
        folder write that follows.
        """
        if artifact_type_of(self.value) in keep_as_folder:
            return None
        payload, serializer = serializer_for(self.value)
        files = serializer.encode(payload, limit)
        if not files:
            return None
        if not all(plain_name(name) for name in files):  # packs hold flat names only
            self._encoded = (payload, serializer, files)
            return None
        manifest = build_manifest(self.value, payload, serializer, _described(files, serializer.hash_algorithm), self.extra)
        head = manifest_bytes(manifest)
        if len(MAGIC) + len(head) + 1 + sum(len(data) for data in files.values()) > limit or b"\n" in head:
            self._encoded = (payload, serializer, files)
            return None
        self.manifest = manifest
        return pack_files(head, files)


def _described(files: dict[str, bytes], algorithm: str) -> dict[str, dict[str, Any]]:
    """The manifest entries of in-memory files: hashed as the serializer's own save() would record them."""
    return {name: {algorithm: digests.of_bytes(data, algorithm), "size": len(data)} for name, data in sorted(files.items())}

