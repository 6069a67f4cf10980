"""The local model registry: versions and their approval status in the project's metadata store."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import attrs
import cattrs

import flowyml
from flowyml.errors import RegistryError
from flowyml.naming import check_name
from flowyml.plugins.component import NoOptions
from flowyml.plugins.types import ModelVersion
from flowyml.registry_rules import ModelRegistryComponent, existing_version, next_number

_converter = cattrs.Converter()


class LocalModelRegistry(ModelRegistryComponent):
    Options = NoOptions

    def describe(self) -> str:
        return f"local registry in {self.context.metadata.display}"

    def _load(self, row: Any) -> ModelVersion:
        data = json.loads(row["record"])
        data["status"] = row["status"]
        return _converter.structure(data, ModelVersion)

    # -- what the core's registry rules need ------------------------------------------------

    def versions(self, name: str) -> list[ModelVersion]:
        return [self._load(r) for r in self.context.metadata.model_versions(name)]

    def create_version(self, model: ModelVersion, existing: Sequence[ModelVersion]) -> ModelVersion:
        check_name(model.name, "model name", error=RegistryError)
        if model.version:
            check_name(model.version, f"model {model.name!r}: version", error=RegistryError)
        created: list[ModelVersion] = []

        def decide(rows: Sequence[Any]) -> ModelVersion | tuple[str, str, str]:
            # Another process may have registered since `existing` was read: the rules again, under the model's lock.
            current = [self._load(r) for r in rows]
            found = existing_version(model, current, self.describe())
            if found is not None:
                return found
            version = model.version or next_number(current)
            record = model.evolve(
                version=version,
                registry_id=f"local:{model.name}/{version}",
                created_at=time.strftime("%Y-%m-%dT%H:%M:%S"),
            )
            created.append(record)
            return version, json.dumps(attrs.asdict(record), default=str), record.status

        decided = self.context.metadata.add_model_version(model.name, decide)
        return decided if isinstance(decided, ModelVersion) else created[-1]

    def apply_status(self, current: ModelVersion, status: str) -> ModelVersion:
        self.context.metadata.set_model_status(current.name, current.version, status)
        return current.evolve(status=status)

    # -- reading ------------------------------------------------------------------------------

    @flowyml.hookimpl
    def flowyml_model_registry_get(self, name: str, version: str | None) -> ModelVersion | None:
        row = self.context.metadata.model_version(name, None if version is None else str(version))
        return self._load(row) if row is not None else None

    @flowyml.hookimpl
    def flowyml_model_registry_list(self, name: str | None) -> list[ModelVersion]:
        return [self._load(r) for r in self.context.metadata.model_versions(name or None)]
