"""How a YAML value is named in an error message (one wording for the schema and the option checks)."""

from __future__ import annotations

from typing import Any


def describe(value: Any) -> str:
    """A value's kind for an error message (scalars shown, containers named)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value!r})"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
