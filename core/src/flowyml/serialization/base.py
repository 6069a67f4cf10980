"""The serializer interface."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar


class Serializer:
    """Writes one kind of value into a directory and reads it back.

    Subclasses set ``name`` (recorded in each artifact's manifest; a Dataset's
    ``format`` selects a serializer by this name) and ``safe`` (False when
    loading can run arbitrary code, as with pickle: such artifacts are only
    loaded when a trusted record vouches for their content hash) and, for
    a model format, ``frameworks`` (the ``Model(framework=...)`` names it
    handles, which makes them valid names to declare).
    """

    name: ClassVar[str] = ""
    safe: ClassVar[bool] = True
    frameworks: ClassVar[tuple[str, ...]] = ()
    #: The algorithm this serializer's files are recorded under (:mod:`flowyml.serialization.digests`):
    #: the hashes ``save`` returns and those of the files ``encode`` makes. ``"sha256"`` unless it says otherwise.
    hash_algorithm: ClassVar[str] = "sha256"

    def can_save(self, value: Any) -> bool:
        """Whether this serializer can write ``value``. Must not import heavy libraries."""
        raise NotImplementedError

    def save(self, value: Any, directory: Path) -> dict[str, str] | None:
        """Write ``value`` as one or more files into the (empty) ``directory``.

        May return ``{file name: hash}`` for files it hashed while writing
        (see :class:`flowyml.serialization.hashing.HashingFile`): a sha256 hex
        digest, or ``"blake3:" + HEX`` (``HashingFile.file_hash``) for a
        serializer whose :attr:`hash_algorithm` is ``"blake3"``; other files
        are hashed afterwards with :attr:`hash_algorithm`.
        """
        raise NotImplementedError

    def load(self, directory: Path, info: dict[str, Any]) -> Any:
        """Read the value back; ``info`` is the manifest written with it."""
        raise NotImplementedError

    def encode(self, value: Any, limit: int) -> dict[str, bytes] | None:
        """The files :meth:`save` would write, in memory, when together they take at most ``limit`` bytes.

        Optional: a store can then keep a small artifact as one file (the
        packed layout, :mod:`flowyml.stores.packed`) without writing its files
        to disk first. The bytes must be exactly those :meth:`save` writes.
        ``None`` (the default) when the value is larger, or when this
        serializer only writes to folders; the value is then saved as usual.
        Files larger than ``limit`` may be returned when encoding them was the
        cheapest way to find out (one ``json.dumps``): they are then written to
        the folder as they are, not encoded twice.
        """
        return None


def type_path(value: Any) -> str:
    cls = type(value)
    return f"{cls.__module__}.{cls.__qualname__}"


def module_root(value: Any) -> str:
    return type(value).__module__.split(".", 1)[0]
