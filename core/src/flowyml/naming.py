"""Names that become part of a path: one rule for every place that declares one.

Model names and versions, endpoint names, step, output, pipeline and artifact
names end up in file and object paths (artifact keys, a local server's log
file, a tracker's run folder). A name is refused, where it is declared, when
it could leave the folder it is meant for or confuse a file system.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from flowyml.errors import FlowymlError, InvalidNameError

#: Longest name accepted: it must fit in one file name (255 bytes) with a suffix added.
MAX_NAME_LENGTH = 200

__all__ = ["MAX_NAME_LENGTH", "check_name", "name_problem"]


def name_problem(value: Any) -> str | None:
    """Why ``value`` cannot be used as a name that becomes part of a path, or None when it can."""
    if not isinstance(value, str):
        return f"it is a {type(value).__name__}, not a string"
    if not value:
        return "it is empty"
    if value in (".", ".."):
        return f"{value!r} names a folder, not a file"
    for char in value:
        if char in "/\\":
            return f"it contains the path separator {char!r}"
        if char == "\0":
            return "it contains a NUL character"
        category = unicodedata.category(char)
        if category in ("Cc", "Cf", "Zl", "Zp"):
            return f"it contains the control character {char!r}"
        if category == "Cs":
            return f"it contains the lone surrogate {char!r} (not valid text)"
    if len(value.encode("utf-8")) > MAX_NAME_LENGTH:
        return f"it is longer than {MAX_NAME_LENGTH} bytes"
    if len(value) > 1 and value[1] == ":" and value[0].isascii() and value[0].isalpha():
        return "it starts like a Windows drive (C:)"
    if value != value.strip():
        return "it starts or ends with white space"
    return None


def check_name(value: Any, what: str, *, error: type[FlowymlError] = InvalidNameError, hint: str | None = None) -> str:
    """Return ``value`` when it is a safe name; raise ``error`` naming ``what`` and the reason otherwise."""
    problem = name_problem(value)
    if problem is None and isinstance(value, str):
        return value
    raise error(
        f"{what} {value!r} cannot be used: {problem}",
        hint=hint or "names become part of file paths: use letters, digits, '-', '_' and '.' (no '/', '\\', '..', control characters)",
    )
