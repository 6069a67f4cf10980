"""``sagemaker_model_registry``: FlowyML model versions as SageMaker model packages.

One Model Package Group per model name; each version is a versioned Model
Package whose inference container serves the stored artifact (``ModelDataUrl``
is the artifact's S3 URI), with FlowyML's facts in CustomerMetadataProperties,
the metrics as a ModelQuality report, and the approval status matching the
deploy condition (PendingManualApproval until approved).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

import flowyml
from flowyml.errors import RegistryError
from flowyml.plugins.types import ModelVersion
from flowyml.registry_rules import ModelRegistryComponent
from flowyml_sagemaker.component import SageMakerComponent
from flowyml_sagemaker.options import RegistryOptions

log = logging.getLogger("flowyml.sagemaker")


class SageMakerModelRegistry(SageMakerComponent, ModelRegistryComponent):
    kind = "model_registry"
    Options = RegistryOptions
    error_class = RegistryError
    label = "SageMaker Model Registry"

    # -- plumbing -----------------------------------------------------------------------------

    def describe(self) -> str:
        region = f" in {self.options.region}" if self.options.region else ""
        return f"SageMaker Model Registry{region}" + (f" via {self.options.endpoint_url}" if self.options.endpoint_url else "")

    def group_name(self, model_name: str) -> str:
        from flowyml_sagemaker.aws import resource_name

        return resource_name(self.options.group_prefix, model_name)

    def _packages(self, model_name: str) -> list[dict[str, Any]]:
        """Every versioned package of the model's group, described, oldest first ([] without a group)."""
        from flowyml_sagemaker.aws import is_missing

        group = self.group_name(model_name)
        summaries: list[dict[str, Any]] = []
        try:
            pages = self.sm.get_paginator("list_model_packages").paginate(
                ModelPackageGroupName=group, ModelPackageType="Versioned", SortBy="CreationTime", SortOrder="Ascending"
            )
            for page in pages:
                summaries.extend(page.get("ModelPackageSummaryList", []))
        except Exception as exc:
            if is_missing(exc):
                return []
            raise self._fail(exc, f"listing the model packages of group {group}") from exc
        described = [self._call(f"describing {s['ModelPackageArn']}", "describe_model_package", ModelPackageName=s["ModelPackageArn"]) for s in summaries]
        described = [d for d in described if (d.get("CustomerMetadataProperties") or {}).get("flowyml.model_name", model_name) == model_name]
        return sorted(described, key=lambda d: int(d.get("ModelPackageVersion") or 0))

    def _ensure_group(self, model_name: str) -> str:
        from flowyml_sagemaker.aws import is_missing

        group = self.group_name(model_name)
        try:
            self.sm.describe_model_package_group(ModelPackageGroupName=group)
            return group
        except Exception as exc:
            if not is_missing(exc):
                raise self._fail(exc, f"looking up model package group {group}") from exc
        tags = [{"Key": "flowyml:model", "Value": model_name}] + [{"Key": k, "Value": v} for k, v in self.options.tags.items()]
        self._call(
            f"creating model package group {group}",
            "create_model_package_group",
            ModelPackageGroupName=group,
            ModelPackageGroupDescription=f"FlowyML model {model_name}"[:1024],
            Tags=tags,
        )
        log.info("created SageMaker model package group %s", group)
        return group

    def image_for(self, model: ModelVersion) -> str:
        image = (model.serving_config or {}).get("image_uri") or self.options.framework_images.get(model.framework or "") or self.options.image_uri
        if not image:
            raise RegistryError(
                f"no inference image for model {model.name!r} (framework {model.framework or 'unknown'}) in the SageMaker registry of stack {self.context.stack_name!r}",
                hint="set model_registry.image_uri (or framework_images: {"
                + (model.framework or "sklearn")
                + ": IMAGE}) in flowyml.yaml, or serving_config={'image_uri': ...} on the Model; "
                "docs/backends/sagemaker.md explains which image serves a FlowyML model",
            )
        return str(image)

    def _metrics_report_uri(self, model: ModelVersion) -> str | None:
        if not (self.options.metrics_report and model.metrics and model.uri.startswith("s3://")):
            return None
        from flowyml_sagemaker.aws import client
        from flowyml_sagemaker.packages import metrics_report

        bucket, _, key = model.uri.removeprefix("s3://").partition("/")
        report_key = f"{key.rstrip('/')}.sagemaker-metrics.json"
        try:
            client("s3", self.options).put_object(
                Bucket=bucket, Key=report_key, Body=json.dumps(metrics_report(model), indent=1).encode(), ContentType="application/json"
            )
        except Exception as exc:
            raise self._fail(exc, f"writing the metrics report s3://{bucket}/{report_key}") from exc
        return f"s3://{bucket}/{report_key}"

    # -- what the core's registry rules need ---------------------------------------------------------

    def versions(self, name: str) -> list[ModelVersion]:
        from flowyml_sagemaker.packages import to_model_version

        return [to_model_version(p, name) for p in self._packages(name)]

    def create_version(self, model: ModelVersion, existing: Sequence[ModelVersion]) -> ModelVersion:
        from flowyml_sagemaker.packages import (
            FRAMEWORKS,
            TO_APPROVAL,
            metadata_properties,
            to_model_version,
        )

        group = self._ensure_group(model.name)
        container: dict[str, Any] = {"Image": self.image_for(model), "ModelDataUrl": model.uri}
        if model.framework in FRAMEWORKS:
            container["Framework"] = FRAMEWORKS[model.framework]
        inference: dict[str, Any] = {
            "Containers": [container],
            "SupportedContentTypes": list(self.options.content_types),
            "SupportedResponseMIMETypes": list(self.options.response_types),
        }
        if self.options.inference_instance_types:
            inference["SupportedRealtimeInferenceInstanceTypes"] = list(self.options.inference_instance_types)
        request: dict[str, Any] = {
            "ModelPackageGroupName": group,
            "ModelPackageDescription": f"{model.name} {model.version or ''} from FlowyML run {model.run_id or '-'}".strip()[:1024],
            "InferenceSpecification": inference,
            "ModelApprovalStatus": TO_APPROVAL[model.status],
            "CustomerMetadataProperties": metadata_properties(model, flowyml.__version__),
            "MetadataProperties": {"GeneratedBy": f"flowyml {flowyml.__version__}"[:1024]},
        }
        if model.run_id:
            request["MetadataProperties"]["ProjectId"] = model.run_id[:1024]
        report = self._metrics_report_uri(model)
        if report:
            request["ModelMetrics"] = {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": report}}}
        arn = self._call(f"creating a model package in group {group}", "create_model_package", **request)["ModelPackageArn"]
        package = self._call(f"describing {arn}", "describe_model_package", ModelPackageName=arn)
        registered = to_model_version(package, model.name)
        log.info("registered %s version %s as %s (%s)", model.name, registered.version, arn, request["ModelApprovalStatus"])
        return registered

    @flowyml.hookimpl
    def flowyml_model_registry_get(self, name: str, version: str | None) -> ModelVersion | None:
        from flowyml_sagemaker.packages import to_model_version, version_of

        packages = self._packages(name)
        if version is None:
            return to_model_version(packages[-1], name) if packages else None
        for package in packages:
            if version_of(package) == str(version):
                return to_model_version(package, name)
        return None

    @flowyml.hookimpl
    def flowyml_model_registry_list(self, name: str | None) -> list[ModelVersion]:
        from flowyml_sagemaker.packages import to_model_version

        if name:
            return [to_model_version(p, name) for p in self._packages(name)]
        out: list[ModelVersion] = []
        for page in self._call("listing model package groups", "get_paginator", operation_name="list_model_package_groups").paginate():
            for group in page.get("ModelPackageGroupSummaryList", []):
                tags = self._call("reading group tags", "list_tags", ResourceArn=group["ModelPackageGroupArn"]).get("Tags", [])
                model_name = next((t["Value"] for t in tags if t["Key"] == "flowyml:model"), None)
                if model_name:
                    out.extend(to_model_version(p, model_name) for p in self._packages(model_name))
        return out

    def apply_status(self, current: ModelVersion, status: str) -> ModelVersion:
        from flowyml_sagemaker.packages import TO_APPROVAL, to_model_version

        arn = str(current.registry_id)
        package = self._call(f"describing {arn}", "describe_model_package", ModelPackageName=arn)
        props = dict(package.get("CustomerMetadataProperties") or {})
        props["flowyml.status"] = status
        self._call(
            f"setting {arn} to {TO_APPROVAL[status]}",
            "update_model_package",
            ModelPackageArn=arn,
            ModelApprovalStatus=TO_APPROVAL[status],
            ApprovalDescription=f"set to {status} by FlowyML",
            CustomerMetadataProperties=props,  # the whole set: updates merge on AWS and replace on some stand-ins
        )
        return to_model_version(self._call(f"describing {arn}", "describe_model_package", ModelPackageName=arn), current.name)

    def close(self) -> None:
        self._client = None
