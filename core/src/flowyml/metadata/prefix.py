"""Prefix lookups that an index can answer.

``col LIKE 'abc%'`` cannot use SQLite's (binary) primary-key index, so every
lookup of a run or an artifact by a prefix of its id read the whole table. The
rows whose ``col`` starts with a prefix are exactly those in the range
``[prefix, successor)``, where the successor is the prefix with its last
character replaced by the next one: a range an index answers directly.
"""

from __future__ import annotations

from typing import Any

__all__ = ["prefix_condition", "prefix_range"]

_LAST = 0x10FFFF
_SURROGATES = range(0xD800, 0xE000)


def prefix_range(prefix: str) -> tuple[str, str | None]:
    """``(low, high)`` such that ``low <= s < high`` holds exactly for the strings ``s`` starting with ``prefix``.

    ``high`` is None when no string is above every match (a prefix of only the
    last code points); then ``s >= low`` plus a prefix check is the condition.
    """
    stem = prefix
    while stem:
        code = ord(stem[-1]) + 1
        if code in _SURROGATES:
            code = _SURROGATES.stop
        if code <= _LAST:
            return prefix, stem[:-1] + chr(code)
        stem = stem[:-1]
    return prefix, None


def prefix_condition(column: str, prefix: str) -> tuple[str, tuple[Any, ...]]:
    """A WHERE condition and its parameters for "``column`` starts with ``prefix``" that an index answers."""
    low, high = prefix_range(prefix)
    if high is None:
        return f"{column} >= ? AND substr({column}, 1, ?) = ?", (low, len(prefix), prefix)
    return f"{column} >= ? AND {column} < ?", (low, high)
