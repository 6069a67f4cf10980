"""The ``mlflow_model_registry`` component: FlowyML model versions as MLflow model versions.

Each FlowyML version is one MLflow model version whose source is the stored
artifact's URI; the FlowyML version string, status, metrics, framework and run
id are ``flowyml.*`` tags, and approval moves an alias (``approved`` by default).
mlflow is imported on first use.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import flowyml
from flowyml.errors import FlowymlError, RegistryError
from flowyml.plugins.component import ComponentContext, OptionProblem
from flowyml.plugins.types import ModelVersion
from flowyml.registry_rules import ModelRegistryComponent
from flowyml_mlflow.options import MlflowRegistryOptions, http_problems
from flowyml_mlflow.registry_tags import STATUS, VERSION, from_tags, to_tags
from flowyml_mlflow.run_link import logged_run

T = TypeVar("T")
_ALIAS = re.compile(r"^[\w\-]*$")
LOCAL_SOURCE_HINT = (
    "an MLflow tracking server accepts only remote model sources (s3://, gs://, ...): route Model to an "
    "object store (artifact_routing: Model: {store: s3}), or set model_registry.registry_uri to a database "
    "MLflow opens directly (registry_uri: sqlite:///mlflow.db)"
)


class MlflowModelRegistry(ModelRegistryComponent):
    Options = MlflowRegistryOptions

    def __init__(self, options: MlflowRegistryOptions, context: ComponentContext) -> None:
        super().__init__(options, context)
        self._client: Any = None

    @classmethod
    def check_options(cls, options: MlflowRegistryOptions) -> list[OptionProblem]:
        found = http_problems(options)
        alias = options.approved_alias
        if alias and (not _ALIAS.match(alias) or alias.lower() == "latest" or re.match(r"^[vV]\d+$", alias)):
            found.append(
                OptionProblem(
                    "approved_alias",
                    f"approved_alias {alias!r} is not a valid MLflow alias",
                    "use letters, digits, _ and -, not 'latest' nor v<number> (e.g. approved_alias: champion), or '' for none",
                )
            )
        return found

    def describe(self) -> str:
        return f"mlflow model registry at {self.options.registry_uri or self.options.tracking_uri or 'MLFLOW_TRACKING_URI'}"

    # -- plumbing ---------------------------------------------------------------------

    @property
    def uri(self) -> str:
        from flowyml_mlflow.connection import resolve_uri

        return self.options.registry_uri or resolve_uri(self.options.tracking_uri)

    @property
    def client(self) -> Any:
        if self._client is None:
            from flowyml_mlflow.connection import make_client

            self._client = make_client(self.options.tracking_uri, self.options.registry_uri)
        return self._client

    def call(self, action: str, fn: Callable[[], T]) -> T:
        from flowyml_mlflow.connection import call, error_code

        def refine(exc: Exception, error: FlowymlError) -> None:
            if error_code(exc) == "INVALID_PARAMETER_VALUE" and "model version source" in str(exc):
                error.hint = LOCAL_SOURCE_HINT

        return call(
            action, fn, uri=self.uri, retries=self.options.request_retries, timeout=self.options.request_timeout,
            error=RegistryError, refine=refine,
        )

    def _versions(self, name: str | None) -> list[Any]:
        """MLflow model versions of ``name`` (of every model when None), oldest first."""

        def search() -> list[Any]:
            found: list[Any] = []
            quote = '"' if name and "'" in name else "'"
            query = f"name = {quote}{name}{quote}" if name else ""
            token = None
            while True:
                page = self.client.search_model_versions(query, max_results=1000, page_token=token)
                found.extend(page)
                token = getattr(page, "token", None)
                if not token:
                    return sorted(found, key=lambda v: (v.name, int(v.version)))

        return self.call(f"listing versions of model {name!r}" if name else "listing model versions", search)

    def _load(self, entity: Any) -> ModelVersion:
        return from_tags(entity.name, str(entity.version), entity.source, dict(entity.tags or {}), entity.creation_timestamp)

    def _find(self, name: str, version: str) -> Any | None:
        for entity in self._versions(name):
            if (entity.tags or {}).get(VERSION, str(entity.version)) == str(version):
                return entity
        return None

    def _ensure_model(self, name: str) -> None:
        from flowyml_mlflow.connection import error_code

        def create() -> None:
            try:
                self.client.create_registered_model(name, tags={"flowyml.managed": "true"})
            except Exception as exc:
                if error_code(exc) != "RESOURCE_ALREADY_EXISTS":
                    raise

        self.call(f"creating registered model {name!r}", create)

    # -- hooks ------------------------------------------------------------------------

    @flowyml.hookimpl
    def flowyml_component_check(self) -> list[str]:
        self.call("listing registered models", lambda: self.client.search_registered_models(max_results=1))
        return [f"MLflow model registry at {self.uri} answers"]

    # -- what the core's registry rules need ---------------------------------------------

    def versions(self, name: str) -> list[ModelVersion]:
        return [self._load(e) for e in self._versions(name)]

    def create_version(self, model: ModelVersion, existing: Sequence[ModelVersion]) -> ModelVersion:
        self._ensure_model(model.name)
        tags = to_tags(model)
        description = f"Registered by FlowyML from run {model.run_id} (pipeline {model.pipeline_name}, step {model.step_name})"
        logged = logged_run(model.run_id)
        link = logged.version_kwargs() if logged else {}
        created = self.call(
            f"registering model {model.name!r} from {model.uri}",
            lambda: self.client.create_model_version(model.name, source=model.uri, tags=tags, description=description, **link),
        )
        number = str(created.version)
        if not model.version:
            taken = {v.version for v in existing}
            numeric = [int(v) for v in taken if v and v.isdigit()]
            version = number if number not in taken else str(max(numeric, default=0) + 1)
            self.call("recording the version number", lambda: self.client.set_model_version_tag(model.name, number, VERSION, version))
        if model.status == "approved":
            self._move_alias(model.name, number, "approved")
        return self._load(self.call("reading the new version", lambda: self.client.get_model_version(model.name, number)))

    def apply_status(self, current: ModelVersion, status: str) -> ModelVersion:
        name = current.name
        number = str(current.metadata.get("mlflow_version") or "")
        if not number:
            entity = self._find(name, current.version)
            if entity is None:
                raise RegistryError(f"model {name!r} version {current.version} vanished from the MLflow registry at {self.uri}")
            number = str(entity.version)
        self.call(f"setting the status of {name} version {current.version}", lambda: self.client.set_model_version_tag(name, number, STATUS, status))
        self._move_alias(name, number, status)
        return self._load(self.call("reading the version", lambda: self.client.get_model_version(name, number)))

    @flowyml.hookimpl
    def flowyml_model_registry_get(self, name: str, version: str | None) -> ModelVersion | None:
        versions = self._versions(name)
        if version is None:
            return self._load(versions[-1]) if versions else None
        entity = next((e for e in versions if (e.tags or {}).get(VERSION, str(e.version)) == str(version)), None)
        return self._load(entity) if entity is not None else None

    @flowyml.hookimpl
    def flowyml_model_registry_list(self, name: str | None) -> list[ModelVersion]:
        return [self._load(e) for e in self._versions(name)]

    def _move_alias(self, name: str, number: str, status: str) -> None:
        """Approved: the alias points here. Rejected or archived: the alias leaves this version."""
        alias = self.options.approved_alias
        if not alias:
            return
        if status == "approved":
            self.call(f"setting alias {alias!r}", lambda: self.client.set_registered_model_alias(name, alias, number))
        elif status in ("rejected", "archived"):
            aliases = self.call(f"reading the aliases of {name!r}", lambda: dict(self.client.get_registered_model(name).aliases or {}))
            if str(aliases.get(alias)) == number:
                self.call(f"removing alias {alias!r}", lambda: self.client.delete_registered_model_alias(name, alias))
