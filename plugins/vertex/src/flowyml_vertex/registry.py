"""``vertex_model_registry``: FlowyML model versions as versions of one Vertex AI model.

A FlowyML model name maps to one Vertex model (display name = the name,
labelled ``managed_by=flowyml``); each FlowyML version is uploaded as a new
Vertex version of it (``parentModel``), never as a duplicate model.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import flowyml
from flowyml.errors import ModelNotFoundError, RegistryError
from flowyml.plugins.types import ModelVersion
from flowyml.registry_rules import ModelRegistryComponent
from flowyml_vertex.containers import serving_image
from flowyml_vertex.errors import reported
from flowyml_vertex.naming import MANAGED, filter_expr, status_alias, version_alias
from flowyml_vertex.options import VertexRegistryOptions
from flowyml_vertex.records import labels_for, model_version_of, version_description
from flowyml_vertex.sdk import aiplatform_for

log = logging.getLogger("flowyml.vertex")


class VertexModelRegistry(ModelRegistryComponent):
    Options = VertexRegistryOptions

    def __init__(self, options: VertexRegistryOptions, context: Any) -> None:
        super().__init__(options, context)
        self._sdk: Any = None

    def describe(self) -> str:
        where = "/".join(filter(None, [self.options.project, self.options.location])) or "the environment's project"
        return f"Vertex AI Model Registry ({where})"

    @property
    def where(self) -> str:
        return f"vertex_model_registry of stack {self.context.stack_name!r}"

    @property
    def sdk(self) -> Any:
        if self._sdk is None:
            with reported(RegistryError, "configuring the Vertex AI SDK", self.where):
                self._sdk = aiplatform_for(self.options)
        return self._sdk

    # -- reading Vertex ----------------------------------------------------------------------

    def _vertex_model(self, name: str) -> Any | None:
        """The Vertex model FlowyML uses for ``name`` (the oldest if several), or None."""
        found = self.sdk.Model.list(filter=filter_expr(display_name=name, labels__managed_by=MANAGED[1]))
        found = [m for m in found if m.display_name == name]
        return min(found, key=lambda m: m.create_time) if found else None

    def _versions(self, model: Any) -> list[Any]:
        """Every version of a Vertex model, as gapic messages, oldest first."""
        registry = self.sdk.models.ModelRegistry(model.resource_name)
        versions = list(registry.client.list_model_versions(name=model.resource_name))
        return sorted(versions, key=lambda v: int(v.version_id) if str(v.version_id).isdigit() else 0)

    def _all(self, name: str) -> tuple[Any | None, list[ModelVersion], list[Any]]:
        model = self._vertex_model(name)
        if model is None:
            return None, [], []
        raw = self._versions(model)
        return model, [model_version_of(v, name) for v in raw], raw

    # -- what the core's registry rules need ------------------------------------------------

    def versions(self, name: str) -> list[ModelVersion]:
        with reported(RegistryError, f"listing the versions of {name!r}", self.where):
            return self._all(name)[1]

    def create_version(self, model: ModelVersion, existing: Sequence[ModelVersion]) -> ModelVersion:
        with reported(RegistryError, f"registering {model.name!r} version {model.version or '(next)'}", self.where):
            return self._upload(model, existing)

    def _upload(self, model: ModelVersion, existing: Sequence[ModelVersion]) -> ModelVersion:
        parent = self._vertex_model(model.name)
        image = serving_image(
            model.framework,
            model.serving_config,
            override=self.options.serving_container_image,
            table=self.options.serving_container_images,
            model_name=model.name,
        )
        taken = {version_alias(v.version) for v in existing if v.version}
        alias = version_alias(model.version) if model.version else None
        uploaded = self.sdk.Model.upload(
            display_name=model.name,
            artifact_uri=_gs_uri(model.uri),
            serving_container_image_uri=image,
            parent_model=parent.resource_name if parent is not None else None,
            is_default_version=True,
            version_aliases=[alias] if alias and alias not in taken else None,
            version_description=version_description(model),
            description=f"Registered by FlowyML (pipeline {model.pipeline_name or '?'}, run {model.run_id or '?'})",
            labels=labels_for(model, self.options.labels),
            upload_request_timeout=self.options.timeout,
            sync=True,
        )
        version_id = str(uploaded.version_id)
        log.info("registered %s as Vertex model %s version %s", model.name, uploaded.resource_name, version_id)
        if model.status != "registered":
            self._set_alias(uploaded.resource_name, version_id, model.status, "registered")
        got = self._get(model.name, model.version or None, version_id=version_id)
        if got is None:
            raise RegistryError(f"{self.where}: Vertex did not list {uploaded.resource_name} version {version_id} after uploading it")
        return got

    def apply_status(self, current: ModelVersion, status: str) -> ModelVersion:
        if not current.registry_id:
            raise ModelNotFoundError(
                f"model {current.name!r} version {current.version} has no Vertex resource in the {self.describe()}",
                hint="list versions with: flowyml model list",
            )
        with reported(RegistryError, f"setting {current.name!r} version {current.version} to {status}", self.where):
            resource, _, version_id = current.registry_id.partition("@")
            self._set_alias(resource, version_id, status, current.status)
        return current.evolve(status=status)

    def _get(self, name: str, version: str | None, *, version_id: str | None = None) -> ModelVersion | None:
        _, versions, _ = self._all(name)
        if version_id is not None:
            return next((v for v in versions if v.registry_id and v.registry_id.endswith(f"@{version_id}")), None)
        if version is None:
            return versions[-1] if versions else None
        return next((v for v in versions if v.version == str(version)), None)

    @flowyml.hookimpl
    def flowyml_model_registry_get(self, name: str, version: str | None) -> ModelVersion | None:
        with reported(RegistryError, f"reading {name!r} version {version or 'latest'}", self.where):
            return self._get(name, version)

    @flowyml.hookimpl
    def flowyml_model_registry_list(self, name: str | None) -> list[ModelVersion]:
        with reported(RegistryError, f"listing {name or 'models'}", self.where):
            if name:
                return self._all(name)[1]
            out: list[ModelVersion] = []
            names = sorted({m.display_name for m in self.sdk.Model.list(filter=filter_expr(labels__managed_by=MANAGED[1]))})
            for each in names:
                out.extend(self._all(each)[1])
            return out

    def _set_alias(self, resource: str, version_id: str, status: str, previous: str) -> None:
        aliases = [status_alias(status, version_id)] if status != "registered" else []
        if previous != "registered":
            aliases.insert(0, f"-{status_alias(previous, version_id)}")
        if aliases:
            registry = self.sdk.models.ModelRegistry(resource)
            registry.client.merge_version_aliases(name=f"{resource}@{version_id}", version_aliases=aliases)

    @flowyml.hookimpl
    def flowyml_component_check(self) -> list[str]:
        with reported(RegistryError, "listing models", self.where):
            count = len(self.sdk.Model.list(filter=filter_expr(labels__managed_by=MANAGED[1])))
        return [f"{self.describe()} answers ({count} FlowyML models)"]


def _gs_uri(uri: str) -> str:
    """Vertex only reads ``gs://`` artifact URIs."""
    if uri.startswith("gcs://"):
        return "gs://" + uri[len("gcs://") :]
    if not uri.startswith("gs://"):
        raise RegistryError(
            f"Vertex AI can only register models stored in Google Cloud Storage; this one is at {uri}",
            hint="route Model to a gcs artifact store (artifact_store: {type: gcs, bucket: ...})",
        )
    return uri
