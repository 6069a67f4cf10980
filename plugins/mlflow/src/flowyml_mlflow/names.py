"""MLflow's naming and size rules for keys and values, checked before anything is sent.

Pure Python: the limits are MLflow's (``mlflow.utils.validation``) as of 3.x.
"""

from __future__ import annotations

import logging
import posixpath
import re
from collections.abc import Iterable

from flowyml.errors import TrackerError

log = logging.getLogger("flowyml.mlflow")

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
#: One log_batch request: at most 1000 metrics, 100 params + tags, 1000 entities in all.
MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_TAGS_PER_BATCH = 100

_BAD_CHARACTERS = re.compile(r"[^/\w.\- :]")


def sanitize_key(key: str) -> str:
    """A key MLflow accepts: allowed characters only, a normalised relative path, at most 250 characters."""
    cleaned = _BAD_CHARACTERS.sub("_", str(key))
    parts = [p if p not in (".", "..") else p.replace(".", "_") for p in cleaned.split("/") if p]
    cleaned = "/".join(parts) or "_"
    if posixpath.normpath(cleaned) != cleaned:
        cleaned = cleaned.replace("/", "_")
    return cleaned[:MAX_KEY_LENGTH]


def sanitize_keys(keys: Iterable[str], what: str) -> dict[str, str]:
    """Map each key to its MLflow name; renames are logged, two keys ending as one name is an error."""
    mapping: dict[str, str] = {}
    taken: dict[str, str] = {}
    for key in keys:
        name = sanitize_key(key)
        if name in taken and taken[name] != key:
            raise TrackerError(
                f"{what} {key!r} and {taken[name]!r} both become {name!r} in MLflow "
                "(only letters, digits, _ - . : / and spaces are allowed, at most 250 characters)",
                hint=f"rename one of the {what}s",
            )
        if name != key:
            log.warning("MLflow %s %r logged as %r (MLflow key rules)", what, key, name)
        taken[name] = key
        mapping[key] = name
    return mapping


def cut(value: str, limit: int, what: str) -> str:
    """``value`` cut to ``limit`` characters, with a warning when it was longer."""
    if len(value) <= limit:
        return value
    log.warning("MLflow %s is %d characters; cut to MLflow's limit of %d", what, len(value), limit)
    return value[: limit - 1] + "…"


def chunks(items: list[object], size: int) -> list[list[object]]:
    """``items`` in consecutive lists of at most ``size``."""
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]
