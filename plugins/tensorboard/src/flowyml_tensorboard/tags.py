"""TensorBoard tag names and hparams values: what is allowed, sanitized and reported. Pure Python."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from flowyml.errors import TrackerError

log = logging.getLogger("flowyml.tensorboard")
_BAD = re.compile(r"[^-/\w.]")


def tag_for(prefix: str, key: str) -> str:
    """``<prefix><key>`` with characters TensorBoard would rewrite replaced by ``_``."""
    return _BAD.sub("_", f"{prefix}{key}")


def tags_for(step_name: str, keys: Iterable[str], prefix: str = "") -> dict[str, str]:
    """Each key's tag; renames are logged, two keys ending as one tag is an error."""
    mapping: dict[str, str] = {}
    owners: dict[str, str] = {}
    for key in keys:
        tag = tag_for(prefix, key)
        if tag in owners and owners[tag] != key:
            raise TrackerError(
                f"metrics {key!r} and {owners[tag]!r} of step {step_name!r} both become TensorBoard tag {tag!r}",
                hint="rename one of them (TensorBoard tags hold letters, digits, _ - . /)",
            )
        if tag != f"{prefix}{key}":
            log.warning("metric %r of step %r written as TensorBoard tag %r", key, step_name, tag)
        owners[tag] = key
        mapping[key] = tag
    return mapping


def hparam_values(params: Mapping[str, Any]) -> dict[str, bool | int | float | str]:
    """Values the hparams plugin can hold (bool, number, text); None becomes the text ``None`` (logged)."""
    out: dict[str, bool | int | float | str] = {}
    for key, value in params.items():
        if value is None or not isinstance(value, bool | int | float | str):
            log.warning("parameter %r (%r) recorded as the text %r in TensorBoard hparams", key, value, str(value))
            value = str(value)
        out[key] = value
    return out


def markdown_table(values: Mapping[str, Any]) -> str:
    """A two-column Markdown table (TensorBoard's text plugin renders it)."""
    rows = [f"| {key} | {value} |" for key, value in values.items()]
    return "\n".join(["| key | value |", "|---|---|", *rows])
