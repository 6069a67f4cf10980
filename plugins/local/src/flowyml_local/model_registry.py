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
        return f"local registry in {self.context.metadata.path}"

    def _load(self, row: Any) -> ModelVersion:
        data = json.loads(row["record"])
        data["status"] = row["status"]
        return _converter.structure(data, ModelVersion)

    # -- what the core's registry rules need ------------------------------------------------

    def versions(self, name: str) -> list[ModelVersion]:
        return [self._load(r) for r in self.context.metadata.query("SELECT * FROM model_versions WHERE name=? ORDER BY seq", (name,))]

    def create_version(self, model: ModelVersion, existing: Sequence[ModelVersion]) -> ModelVersion:
        check_name(model.name, "model name", error=RegistryError)
        if model.version:
            check_name(model.version, f"model {model.name!r}: version", error=RegistryError)
        db = self.context.metadata
        with db.transaction() as cur:
            rows = list(cur.execute("SELECT version, seq, record, status FROM model_versions WHERE name=?", (model.name,)))
            # Another process may have registered since `existing` was read: the rules again, inside the transaction.
            current = [self._load(r) for r in rows]
            found = existing_version(model, current, self.describe())
            if found is not None:
                return found
            version = model.version or next_number(current)
            seq = max((r["seq"] for r in rows), default=0) + 1
            record = model.evolve(
                version=version,
                registry_id=f"local:{model.name}/{version}",
                created_at=time.strftime("%Y-%m-%dT%H:%M:%S"),
            )
            cur.execute(
                "INSERT INTO model_versions (name, version, seq, record, status, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (model.name, version, seq, json.dumps(attrs.asdict(record), default=str), record.status, time.time()),
            )
        return record

    def apply_status(self, current: ModelVersion, status: str) -> ModelVersion:
        self.context.metadata.execute(
            "UPDATE model_versions SET status=? WHERE name=? AND version=?", (status, current.name, current.version)
        )
        return current.evolve(status=status)

    # -- reading ------------------------------------------------------------------------------

    @flowyml.hookimpl
    def flowyml_model_registry_get(self, name: str, version: str | None) -> ModelVersion | None:
        db = self.context.metadata
        if version is None:
            rows = db.query("SELECT * FROM model_versions WHERE name=? ORDER BY seq DESC LIMIT 1", (name,))
        else:
            rows = db.query("SELECT * FROM model_versions WHERE name=? AND version=?", (name, str(version)))
        return self._load(rows[0]) if rows else None

    @flowyml.hookimpl
    def flowyml_model_registry_list(self, name: str | None) -> list[ModelVersion]:
        db = self.context.metadata
        if name:
            rows = db.query("SELECT * FROM model_versions WHERE name=? ORDER BY seq", (name,))
        else:
            rows = db.query("SELECT * FROM model_versions ORDER BY name, seq")
        return [self._load(r) for r in rows]
