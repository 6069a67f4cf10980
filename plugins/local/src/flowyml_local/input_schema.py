"""Checking prediction requests against a model's ``input_schema`` (``{"column": "type", ...}``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["schema_problem"]


def schema_problem(schema: Mapping[str, Any] | None, instances: Any) -> dict[str, Any] | None:
    """What is wrong with ``instances`` for a model whose input columns are ``schema``'s keys, or None.

    Records (``{"col": value}``) must have every column and no other;
    positional rows (``[v1, v2, ...]``) one value per column, in the schema's order.
    """
    if not schema or not isinstance(instances, list):
        return None
    columns = [str(c) for c in schema]
    for index, row in enumerate(instances):
        if isinstance(row, Mapping):
            missing = [c for c in columns if c not in row]
            unknown = sorted(str(k) for k in row if str(k) not in schema)
            if missing or unknown:
                parts = ([f"missing column(s) {', '.join(missing)}"] if missing else []) + (
                    [f"unknown column(s) {', '.join(unknown)}"] if unknown else []
                )
                return {
                    "error": f"instance {index}: {'; '.join(parts)} (the model's input_schema has: {', '.join(columns)})",
                    "missing": missing,
                    "unknown": unknown,
                    "expected": columns,
                }
        elif isinstance(row, list | tuple) and len(row) != len(columns):
            return {
                "error": f"instance {index} has {len(row)} values; the model's input_schema has {len(columns)} columns: {', '.join(columns)}",
                "expected": columns,
            }
    return None
