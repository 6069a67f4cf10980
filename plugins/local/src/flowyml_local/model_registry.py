"""The local model registry: versions and their approval status in the project's metadata store."""

from __future__ import annotations

import json
import time
from typing import Any

import attrs
import cattrs

import flowyml
from flowyml.errors import ModelNotFoundError, RegistryError
from flowyml.naming import check_name
from flowyml.plugins.component import Component, NoOptions
from flowyml.plugins.types import MODEL_STATUSES, ModelVersion

_converter = cattrs.Converter()


class LocalModelRegistry(Component):
    kind = "model_registry"
    Options = NoOptions

    def describe(self) -> str:
        return f"local registry in {self.context.metadata.path}"

    def _load(self, row: Any) -> ModelVersion:
        data = json.loads(row["record"])
        data["status"] = row["status"]
        return _converter.structure(data, ModelVersion)

    @flowyml.hookimpl
    def flowyml_model_registry_register(self, model: ModelVersion) -> ModelVersion:
        check_name(model.name, "model name", error=RegistryError)
        if model.version:
            check_name(model.version, f"model {model.name!r}: version", error=RegistryError)
        db = self.context.metadata
        with db.transaction() as cur:
            rows = list(cur.execute("SELECT version, seq, record, status FROM model_versions WHERE name=?", (model.name,)))
            if model.version:
                for row in rows:
                    if row["version"] == model.version:
                        existing = self._load(row)
                        if existing.content_hash == model.content_hash:
                            return existing
                        raise RegistryError(
                            f"model {model.name!r} version {model.version} is already registered with different content "
                            f"(from run {existing.run_id}); versions are never overwritten",
                            hint="give the new model another version, or omit version= to number it automatically",
                        )
                version = model.version
            else:
                for row in rows:
                    if json.loads(row["record"]).get("content_hash") == model.content_hash:
                        return self._load(row)
                numeric = [int(r["version"]) for r in rows if str(r["version"]).isdigit()]
                version = str(max(numeric, default=0) + 1)
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

    @flowyml.hookimpl
    def flowyml_model_registry_set_status(self, name: str, version: str, status: str) -> ModelVersion:
        if status not in MODEL_STATUSES:
            raise RegistryError(f"unknown model status {status!r}", hint=f"use one of {', '.join(MODEL_STATUSES)}")
        current = self.flowyml_model_registry_get(name, version)
        if current is None:
            raise ModelNotFoundError(
                f"model {name!r} version {version} is not in the local registry",
                hint="list versions with: flowyml model list",
            )
        self.context.metadata.execute(
            "UPDATE model_versions SET status=? WHERE name=? AND version=?", (status, name, str(version))
        )
        return current.evolve(status=status)
