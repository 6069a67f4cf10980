"""flowyml-local runs the same contract suites as every other backend."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from flowyml.core.artifacts import Model
from flowyml.plugins.types import Deployment, ModelVersion, RunInfo
from flowyml.serialization.artifact_io import write_artifact
from flowyml.stacks.stack import Stack
from flowyml.testing import (
    ArtifactStoreContract,
    ModelDeployerContract,
    ModelRegistryContract,
    TrackerContract,
)


class TestLocalArtifactStore(ArtifactStoreContract):
    @pytest.fixture
    def component_config(self, tmp_path: Path) -> dict[str, Any]:
        return {"type": "local", "path": str(tmp_path / "store")}

    @pytest.fixture
    def unusable_component_config(self, tmp_path: Path) -> dict[str, Any]:
        occupied = tmp_path / "a-file"
        occupied.write_text("not a folder")
        return {"type": "local", "path": str(occupied)}


class TestLocalModelRegistry(ModelRegistryContract):
    @pytest.fixture
    def component_config(self) -> dict[str, Any]:
        return {"type": "local"}


class TestLocalTracker(TrackerContract):
    @pytest.fixture
    def component_config(self) -> dict[str, Any]:
        return {"type": "local"}

    def read_back(self, stack: Stack, run: RunInfo) -> dict[str, Any]:
        db = stack.component(stack_kind("experiment_tracker")).context.metadata
        metrics: dict[str, list[tuple[int | None, float]]] = {}
        for row in db.query("SELECT * FROM tracker_metrics WHERE run_id=? ORDER BY rowid", (run.run_id,)):
            metrics.setdefault(row["key"], []).append((row["step"], row["value"]))
        params = {r["key"]: json.loads(r["value"]) for r in db.query("SELECT * FROM tracker_params WHERE run_id=?", (run.run_id,))}
        status = db.query("SELECT status FROM tracker_runs WHERE run_id=?", (run.run_id,))[0]["status"]
        return {"metrics": metrics, "params": params, "status": status}


def stack_kind(value: str) -> Any:
    from flowyml.plugins.kinds import Kind

    return Kind(value)


class TestLocalModelDeployer(ModelDeployerContract):
    @pytest.fixture
    def component_config(self) -> dict[str, Any]:
        return {"type": "local", "startup_timeout": 60}

    @pytest.fixture
    def deployable_models(self, stack: Stack) -> tuple[ModelVersion, ModelVersion]:
        sklearn = pytest.importorskip("sklearn.linear_model", reason="scikit-learn is in the test requirements")
        versions = []
        for i, c in enumerate((0.1, 10.0)):
            clf = sklearn.LogisticRegression(C=c).fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
            manifest: dict[str, Any] = {}
            uri = stack.hook.flowyml_artifact_store_save(
                key=f"models/m{i}", write=lambda d, clf=clf, manifest=manifest: manifest.update(write_artifact(Model(clf, name="clf"), Path(d)))
            )
            versions.append(ModelVersion(name="clf", version=str(i + 1), uri=uri, content_hash=manifest["content_hash"]))
        return versions[0], versions[1]

    def check_serving(self, deployment: Deployment) -> None:
        assert deployment.url and deployment.url.startswith("http://127.0.0.1:")
        request = urllib.request.Request(
            f"{deployment.url}/predict",
            data=json.dumps({"instances": [[0.0], [3.0]]}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read())["predictions"] == [0, 1]
