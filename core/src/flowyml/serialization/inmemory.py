"""Serializing a small value in memory, giving up as soon as it outgrows a size limit.

Used by :meth:`flowyml.serialization.base.Serializer.encode`: a serializer that
streams its output (``pickle.dump``, ``json.dump``) writes into a
:class:`LimitedBuffer`, which stops the dump at the first write past the
limit, so asking whether a large value is small costs at most ``limit`` bytes
of work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any


class TooLarge(Exception):
    """Raised by a :class:`LimitedBuffer` written past its limit (never escapes :func:`encode_within`)."""


class LimitedBuffer:
    """A write-only file object keeping what is written in memory, up to ``limit`` bytes.

    Accepts ``bytes``-like data, and ``str`` when ``text`` (encoded as UTF-8, as
    ``Path.write_text(..., encoding="utf-8")`` writes it on POSIX).
    """

    def __init__(self, limit: int, *, text: bool = False) -> None:
        self.limit = limit
        self.text = text
        self._parts: list[bytes] = []
        self._size = 0

    def write(self, data: Any) -> int:
        chunk = data.encode("utf-8") if self.text and isinstance(data, str) else bytes(data)
        self._size += len(chunk)
        if self._size > self.limit:
            raise TooLarge
        self._parts.append(chunk)
        return len(data)

    def getvalue(self) -> bytes:
        return b"".join(self._parts)


def encode_within(limit: int, dump: Callable[[IO[Any]], object], *, text: bool = False) -> bytes | None:
    """What ``dump(file)`` writes, when it is at most ``limit`` bytes; ``None`` when it would be more."""
    buffer = LimitedBuffer(limit, text=text)
    try:
        dump(buffer)  # type: ignore[arg-type]  # a file object in all that dump uses of one
    except TooLarge:
        return None
    return buffer.getvalue()
