"""How a FlowyML model version is written on an MLflow model version: tags, and back.

MLflow numbers versions itself (1, 2, ...); the FlowyML version (``1.0.0``), the
approval status, metrics and the rest travel as ``flowyml.*`` tags. Pure Python.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flowyml.errors import RegistryError
from flowyml.plugins.types import ModelVersion
from flowyml_mlflow.names import sanitize_key

PREFIX = "flowyml."
VERSION, STATUS, URI = "flowyml.version", "flowyml.status", "flowyml.uri"
METRIC_PREFIX = "flowyml.metric."
#: Registry tag values may hold up to 100,000 characters (MLflow 3).
MAX_REGISTRY_TAG_VALUE = 100_000
_SCALARS = {
    "flowyml.content_hash": "content_hash",
    "flowyml.framework": "framework",
    "flowyml.run_id": "run_id",
    "flowyml.pipeline": "pipeline_name",
    "flowyml.step": "step_name",
}
_JSON = {
    "flowyml.metrics": "metrics",
    "flowyml.metadata": "metadata",
    "flowyml.serving_config": "serving_config",
    "flowyml.input_schema": "input_schema",
    "flowyml.output_schema": "output_schema",
}


def to_tags(model: ModelVersion, version: str | None = None) -> dict[str, str]:
    """The tags recording ``model`` (``version`` overrides ``model.version``)."""
    tags: dict[str, str] = {STATUS: model.status, URI: model.uri}
    if version or model.version:
        tags[VERSION] = version or model.version
    for tag, attr in _SCALARS.items():
        value = getattr(model, attr)
        if value is not None:
            tags[tag] = str(value)
    for tag, attr in _JSON.items():
        value = getattr(model, attr)
        if value:
            tags[tag] = json.dumps(value, default=str, sort_keys=True)
    for key, value in model.metrics.items():  # one tag per number: searchable and visible in the UI
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            tags[sanitize_key(f"{METRIC_PREFIX}{key}")] = repr(float(value))
    for tag, value in tags.items():
        if len(value) > MAX_REGISTRY_TAG_VALUE:
            raise RegistryError(
                f"model {model.name!r}: {tag} is {len(value)} characters, more than MLflow's {MAX_REGISTRY_TAG_VALUE} per tag",
                hint="keep large schemas or metadata in the model artifact itself",
            )
    return tags


def from_tags(name: str, number: str, source: str, tags: Mapping[str, str], created_ms: int | None) -> ModelVersion:
    """The FlowyML model version an MLflow model version records (any MLflow version works)."""
    values: dict[str, Any] = {attr: tags.get(tag) for tag, attr in _SCALARS.items()}
    for tag, attr in _JSON.items():
        if tag in tags:
            values[attr] = json.loads(tags[tag])
    values["metrics"] = values.get("metrics") or {}
    values["metadata"] = values.get("metadata") or {}
    values["metadata"] = {**values["metadata"], "mlflow_version": number}
    created = datetime.fromtimestamp(created_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S") if created_ms else None
    return ModelVersion(
        name=name,
        version=tags.get(VERSION, number),
        uri=tags.get(URI, source),
        status=tags.get(STATUS, "registered"),
        registry_id=f"models:/{name}/{number}",
        created_at=created,
        **values,
    )
