"""Translating between FlowyML model versions and SageMaker model packages.

A version's FlowyML facts travel in the package's CustomerMetadataProperties
(``flowyml.*`` keys, plus ``metric.<name>`` for numeric metrics); SageMaker's
approval status carries the approval.
"""

from __future__ import annotations

import json
import math
from typing import Any

from flowyml.plugins.types import ModelVersion

#: FlowyML status -> SageMaker ModelApprovalStatus.
TO_APPROVAL = {
    "registered": "PendingManualApproval",
    "pending_approval": "PendingManualApproval",
    "approved": "Approved",
    "rejected": "Rejected",
    "archived": "Rejected",
}
#: SageMaker's container ``Framework`` values for the frameworks FlowyML detects.
FRAMEWORKS = {"sklearn": "SKLEARN", "xgboost": "XGBOOST", "pytorch": "PYTORCH", "torch": "PYTORCH", "tensorflow": "TENSORFLOW", "keras": "TENSORFLOW"}
MAX_PROPERTIES = 50
MAX_VALUE = 256
P = "flowyml."


def metadata_properties(model: ModelVersion, flowyml_version: str) -> dict[str, str]:
    """CustomerMetadataProperties for ``model`` (SageMaker allows 50 entries of at most 256 characters)."""
    props = {
        P + "model_name": model.name,
        P + "status": model.status,
        P + "flowyml_version": flowyml_version,
    }
    optional = {
        "version": model.version,
        "content_hash": model.content_hash,
        "run_id": model.run_id,
        "pipeline": model.pipeline_name,
        "step": model.step_name,
        "framework": model.framework,
        "uri": model.uri,
    }
    props.update({P + k: str(v) for k, v in optional.items() if v})
    for key, value in (("serving_config", model.serving_config), ("metadata", model.metadata or None)):
        if value:
            text = json.dumps(value, sort_keys=True, default=str)
            if len(text) <= MAX_VALUE:
                props[P + key] = text
    for name, value in sorted(model.metrics.items()):
        if len(props) >= MAX_PROPERTIES:
            break
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            continue
        props[f"metric.{name}"[:128]] = repr(float(value))
    return {k: v[:MAX_VALUE] for k, v in props.items()}


def status_of(package: dict[str, Any]) -> str:
    approval = package.get("ModelApprovalStatus")
    props = package.get("CustomerMetadataProperties") or {}
    flowyml_status = props.get(P + "status")
    if approval == "Approved":
        return "approved"
    if approval == "Rejected":
        return "archived" if flowyml_status == "archived" else "rejected"
    return flowyml_status if flowyml_status in ("registered", "pending_approval") else "pending_approval"


def version_of(package: dict[str, Any]) -> str:
    """The FlowyML version: the one the pipeline gave, else SageMaker's version number."""
    props = package.get("CustomerMetadataProperties") or {}
    return props.get(P + "version") or str(package.get("ModelPackageVersion") or "")


def to_model_version(package: dict[str, Any], fallback_name: str) -> ModelVersion:
    """A ModelVersion from a DescribeModelPackage answer."""
    props = package.get("CustomerMetadataProperties") or {}
    containers = (package.get("InferenceSpecification") or {}).get("Containers") or [{}]
    metrics = {k.removeprefix("metric."): float(v) for k, v in props.items() if k.startswith("metric.")}
    created = package.get("CreationTime")

    def loads(key: str) -> Any:
        raw = props.get(P + key)
        return json.loads(raw) if raw else None

    return ModelVersion(
        name=props.get(P + "model_name") or fallback_name,
        version=version_of(package),
        uri=props.get(P + "uri") or containers[0].get("ModelDataUrl", ""),
        framework=props.get(P + "framework"),
        status=status_of(package),
        content_hash=props.get(P + "content_hash"),
        run_id=props.get(P + "run_id"),
        pipeline_name=props.get(P + "pipeline"),
        step_name=props.get(P + "step"),
        metrics=metrics,
        metadata=loads("metadata") or {},
        serving_config=loads("serving_config"),
        registry_id=package.get("ModelPackageArn"),
        created_at=created.isoformat() if created is not None and hasattr(created, "isoformat") else (str(created) if created else None),
    )


def metrics_report(model: ModelVersion) -> dict[str, Any]:
    """The JSON report linked as the package's ModelQuality statistics."""
    return {
        "flowyml": {"model": model.name, "version": model.version, "run_id": model.run_id, "content_hash": model.content_hash},
        "metrics": {k: {"value": v} for k, v in sorted(model.metrics.items()) if isinstance(v, int | float) and not isinstance(v, bool)},
    }
