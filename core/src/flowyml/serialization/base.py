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

    def can_save(self, value: Any) -> bool:
        """Whether this serializer can write ``value``. Must not import heavy libraries."""
        raise NotImplementedError

    def save(self, value: Any, directory: Path) -> dict[str, str] | None:
        """Write ``value`` as one or more files into the (empty) ``directory``.

        May return ``{file name: sha256}`` for files it hashed while writing
        (see :class:`flowyml.serialization.hashing.HashingFile`); other files
        are hashed afterwards.
        """
        raise NotImplementedError

    def load(self, directory: Path, info: dict[str, Any]) -> Any:
        """Read the value back; ``info`` is the manifest written with it."""
        raise NotImplementedError


def type_path(value: Any) -> str:
    cls = type(value)
    return f"{cls.__module__}.{cls.__qualname__}"


def module_root(value: Any) -> str:
    return type(value).__module__.split(".", 1)[0]
