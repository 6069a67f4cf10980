"""Secrets out of what the dashboard shows: values under secret names, URL passwords, registered secrets.

The rules are the core's (:mod:`flowyml.redaction`), as ``flowyml stack show``
applies them: a value whose key names a secret (``api_key``, ``db_password``)
is ``***``, and so is the password of a URL and every secret a stack
registered while it was open.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from flowyml.redaction import MASK, is_secret_name, redact

__all__ = ["masked", "public"]


def masked(values: Mapping[str, Any]) -> dict[str, Any]:
    """User-given values (parameters, artifact info, model metadata): those under a secret name are ``***``, at any depth.

    Strings among them are redacted too (URL passwords, registered secrets).
    """
    return {str(key): MASK if is_secret_name(key) else _inside(value) for key, value in values.items()}


def _inside(value: Any) -> Any:
    if isinstance(value, Mapping):
        return masked(value)
    if isinstance(value, list | tuple):
        return [_inside(v) for v in value]
    return redact(value) if isinstance(value, str) else value


def public(value: Any) -> Any:
    """``value`` ready for JSON: strings redacted, NaN and infinities as null, other objects as their text."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): public(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [public(v) for v in value]
    return redact(str(value))
