"""What Metrics and Parameters may hold: checked once, when they are created.

Metrics map string names to numbers (``int``, ``float``, ``bool``, numpy
scalars); a nested mapping groups names (``{"val": {"acc": 0.9}}`` is logged
as ``val.acc``). NaN and infinities are numbers: they are stored and logged
as they are (with a routing event saying so).

Parameters hold JSON values: ``None``, booleans, numbers, strings, lists and
mappings with string keys. Tuples are kept as lists (as JSON stores them);
numpy scalars become ``int``/``float``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

from flowyml.errors import ArtifactValueError

_MAX_DEPTH = 50


def check_metric_values(values: Mapping[Any, Any], prefix: str = "", depth: int = 0) -> None:
    """Raise :class:`ArtifactValueError` naming the first key that is not a string or whose value is not a number."""
    if depth > _MAX_DEPTH:
        raise ArtifactValueError(f"metric {prefix.rstrip('.')!r} is nested more than {_MAX_DEPTH} levels deep")
    for key, value in values.items():
        if not isinstance(key, str) or not key:
            raise ArtifactValueError(
                f"metric names are non-empty strings; got the key {key!r} ({type(key).__name__})"
                + (f" under {prefix.rstrip('.')!r}" if prefix else ""),
                hint='e.g. Metrics({"accuracy": 0.95})',
            )
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            check_metric_values(value, prefix=f"{name}.", depth=depth + 1)
        elif not isinstance(value, numbers.Real):
            raise ArtifactValueError(
                f"metric {name!r} is {_shown(value)}, not a number",
                hint="metrics are numbers (int, float, bool); keep text and lists in Parameters or the step's metadata",
            )


def check_parameter_values(values: Mapping[Any, Any]) -> dict[str, Any]:
    """The parameters as plain JSON values; :class:`ArtifactValueError` naming the first key that is not one."""
    return {_param_key(key, ""): _json_value(value, _param_name("", key), 0) for key, value in values.items()}


def _param_key(key: Any, prefix: str) -> str:
    if not isinstance(key, str):
        where = f" under {prefix!r}" if prefix else ""
        raise ArtifactValueError(
            f"parameter names are strings; got the key {key!r} ({type(key).__name__}){where}",
            hint="use string keys (JSON objects have string keys only)",
        )
    return key


def _param_name(prefix: str, key: Any) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


def _json_value(value: Any, name: str, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        raise ArtifactValueError(f"parameter {name!r} is nested more than {_MAX_DEPTH} levels deep")
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number):
            raise ArtifactValueError(
                f"parameter {name!r} is {number}, which JSON cannot hold",
                hint="use a finite number, or a string such as 'inf'",
            )
        return number
    if isinstance(value, list | tuple):
        return [_json_value(item, f"{name}[{i}]", depth + 1) for i, item in enumerate(value)]
    if isinstance(value, Mapping):
        return {_param_key(k, name): _json_value(v, _param_name(name, k), depth + 1) for k, v in value.items()}
    raise ArtifactValueError(
        f"parameter {name!r} is {_shown(value)}, not a JSON value",
        hint="parameters hold None, booleans, numbers, strings, lists and dicts with string keys; "
        "convert it (e.g. a set to a sorted list) or pass the object to the step another way",
    )


def _shown(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, str | bytes):
        return f"a {type(value).__name__}"  # its text is not echoed: it may be a secret
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"a {type(value).__name__} ({text})"
