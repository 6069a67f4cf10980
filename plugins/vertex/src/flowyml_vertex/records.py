"""What FlowyML keeps on each Vertex model version, and reading it back.

Vertex has no free-form metadata field on a model version, so the exact
FlowyML record (version string, content hash, run, metrics, schemas) is kept
as JSON in the version's ``versionDescription``, which is per version and
shown in the console. Filterable facts (run id, framework, pipeline, step,
version) are also labels; label values cannot hold dots or capitals, so they
are lossy and never read back. The approval status lives in a version alias
(see :mod:`flowyml_vertex.naming`) because aliases can change without
re-uploading the version.
"""

from __future__ import annotations

import json
from typing import Any

from flowyml.plugins.types import MODEL_STATUSES, ModelVersion
from flowyml_vertex.naming import MANAGED, label_value, status_from_aliases

MARKER = "flowyml"


def version_description(model: ModelVersion) -> str:
    record = {
        "version": model.version or None,
        "content_hash": model.content_hash,
        "framework": model.framework,
        "run_id": model.run_id,
        "pipeline_name": model.pipeline_name,
        "step_name": model.step_name,
        "uri": model.uri,
        "metrics": model.metrics,
        "metadata": model.metadata,
        "serving_config": model.serving_config,
        "input_schema": model.input_schema,
        "output_schema": model.output_schema,
    }
    return json.dumps({MARKER: record}, sort_keys=True, default=str)


def labels_for(model: ModelVersion, extra: dict[str, str]) -> dict[str, str]:
    labels = {MANAGED[0]: MANAGED[1], "flowyml_model": label_value(model.name)}
    for key, value in (
        ("flowyml_version", model.version),
        ("flowyml_run_id", model.run_id),
        ("flowyml_framework", model.framework),
        ("flowyml_pipeline", model.pipeline_name),
        ("flowyml_step", model.step_name),
    ):
        if value:
            labels[key] = label_value(value)
    labels.update({label_value(k): label_value(v) for k, v in extra.items()})
    return labels


def read_record(description: str | None) -> dict[str, Any]:
    try:
        data = json.loads(description or "")
    except ValueError:
        return {}
    return data.get(MARKER, {}) if isinstance(data, dict) else {}


def model_version_of(vertex: Any, name: str) -> ModelVersion:
    """A FlowyML ModelVersion from one Vertex model version (a gapic ``Model`` message)."""
    record = read_record(vertex.version_description)
    resource = vertex.name.split("@", 1)[0]
    aliases = list(vertex.version_aliases)
    created = vertex.version_create_time
    return ModelVersion(
        name=name,
        version=record.get("version") or str(vertex.version_id),
        uri=record.get("uri") or vertex.artifact_uri,
        framework=record.get("framework"),
        status=status_from_aliases(aliases, vertex.version_id, MODEL_STATUSES),
        content_hash=record.get("content_hash"),
        run_id=record.get("run_id"),
        pipeline_name=record.get("pipeline_name"),
        step_name=record.get("step_name"),
        metrics=record.get("metrics") or {},
        metadata=record.get("metadata") or {},
        serving_config=record.get("serving_config"),
        input_schema=record.get("input_schema"),
        output_schema=record.get("output_schema"),
        registry_id=f"{resource}@{vertex.version_id}",
        created_at=created.isoformat() if hasattr(created, "isoformat") else str(created),
    )
