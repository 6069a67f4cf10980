"""Flattening metrics and parameters for experiment trackers, reporting what cannot be logged."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

MAX_PARAM_LENGTH = 500


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings become dotted keys: ``{"opt": {"lr": 1}}`` -> ``{"opt.lr": 1}``."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, prefix=f"{name}."))
        else:
            out[name] = value
    return out


def numeric_metrics(values: Mapping[str, Any]) -> tuple[dict[str, float], list[str]]:
    """Split flattened metrics into loggable numbers and reasons for the rest."""
    good: dict[str, float] = {}
    problems: list[str] = []
    for key, value in flatten(values).items():
        if isinstance(value, bool):
            good[key] = float(value)
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            problems.append(f"metric {key!r} is not a number ({type(value).__name__}); not logged")
            continue
        if math.isnan(number) or math.isinf(number):
            problems.append(f"metric {key!r} is {number}; logged as is")
        good[key] = number
    return good, problems


def scalar_params(values: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Flatten parameters to scalars; lists and other values become JSON text, long text is cut (and reported)."""
    out: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in flatten(values).items():
        if value is None or isinstance(value, bool | int | float | str):
            text_value = value
        else:
            try:
                text_value = json.dumps(value, default=str)
            except (TypeError, ValueError):
                text_value = repr(value)
        if isinstance(text_value, str) and len(text_value) > MAX_PARAM_LENGTH:
            problems.append(f"parameter {key!r} is {len(text_value)} characters; cut to {MAX_PARAM_LENGTH}")
            text_value = text_value[: MAX_PARAM_LENGTH - 1] + "…"
        out[key] = text_value
    return out, problems
