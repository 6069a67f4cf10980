"""The contract suites. Each test uses only the hooks, through a real stack."""

from __future__ import annotations

import math
import uuid
from pathlib import Path
from typing import Any

import pytest

from flowyml.core.artifacts import Dataset, Metrics, Model
from flowyml.errors import ArtifactError, FlowymlError, ModelNotFoundError, RegistryError
from flowyml.plugins.types import Deployment, ModelVersion, RunInfo
from flowyml.runner.loading import fetch_and_read
from flowyml.serialization.artifact_io import MANIFEST, write_artifact
from flowyml.stacks.stack import Stack
from flowyml.testing.stacks import make_stack


class _Base:
    kind: str = ""

    @pytest.fixture
    def component_config(self) -> dict[str, Any]:
        """The component's YAML mapping: ``{"type": ..., <options>}``. Override it."""
        raise NotImplementedError("override the component_config fixture")

    @pytest.fixture
    def extra_components(self) -> dict[str, Any]:
        """Other components the stack needs (e.g. an artifact store for a registry). Override when needed."""
        return {}

    @pytest.fixture
    def stack(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, component_config: dict[str, Any], extra_components: dict[str, Any]) -> Any:
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("FLOWYML_CONFIG", raising=False)
        monkeypatch.delenv("FLOWYML_STACK", raising=False)
        stack = make_stack(tmp_path, {**extra_components, self.kind: component_config})
        yield stack
        stack.close()


def _key() -> str:
    return f"contract/{uuid.uuid4().hex[:10]}/out"


class ArtifactStoreContract(_Base):
    """What every artifact store must do."""

    kind = "artifact_store"

    def save(self, stack: Stack, value: Any, key: str | None = None) -> tuple[str, dict[str, Any]]:
        manifest: dict[str, Any] = {}

        def write(directory: Path) -> None:
            manifest.update(write_artifact(value, Path(directory)))

        uri = stack.hook.flowyml_artifact_store_save(key=key or _key(), write=write)
        return uri, manifest

    def test_uri_is_planned_before_saving(self, stack: Stack) -> None:
        key = _key()
        planned = stack.hook.flowyml_artifact_store_uri(key=key)
        uri, _ = self.save(stack, {"a": 1}, key)
        assert uri == planned
        assert uri.rstrip("/").endswith(key)

    @pytest.mark.parametrize("value", [{"a": [1, 2.5, None]}, "text", b"\x00\x01bytes", 42])
    def test_round_trip(self, stack: Stack, value: Any) -> None:
        uri, manifest = self.save(stack, value)
        assert stack.hook.flowyml_artifact_store_exists(uri=uri) is True
        assert fetch_and_read(stack, uri, manifest["content_hash"]) == value

    def test_round_trip_typed_artifact(self, stack: Stack) -> None:
        metrics = Metrics({"accuracy": 0.9}).at_step(3).with_metadata(model_version="1")
        uri, manifest = self.save(stack, metrics)
        loaded = fetch_and_read(stack, uri, manifest["content_hash"])
        assert isinstance(loaded, Metrics)
        assert loaded == metrics and loaded.step == 3 and loaded.metadata == {"model_version": "1"}

    def test_round_trip_dataframe(self, stack: Stack) -> None:
        pd = pytest.importorskip("pandas", reason="pandas is an optional extra")
        frame = pd.DataFrame({"x": [1.0, 2.0, math.pi], "y": ["a", "b", "c"]})
        uri, manifest = self.save(stack, Dataset(frame, name="d"))
        loaded = fetch_and_read(stack, uri, manifest["content_hash"])
        assert isinstance(loaded, Dataset) and loaded.format == "parquet"
        pd.testing.assert_frame_equal(loaded.data, frame)

    def test_refuses_to_overwrite(self, stack: Stack) -> None:
        key = _key()
        self.save(stack, 1, key)
        with pytest.raises(FlowymlError, match="already exists"):
            self.save(stack, 2, key)

    def test_interrupted_write_leaves_no_complete_artifact(self, stack: Stack) -> None:
        key = _key()

        def write(directory: Path) -> None:
            (Path(directory) / "data.bin").write_bytes(b"partial")
            raise RuntimeError("crash while serializing")

        with pytest.raises(RuntimeError, match="crash"):
            stack.hook.flowyml_artifact_store_save(key=key, write=write)
        uri = stack.hook.flowyml_artifact_store_uri(key=key)
        assert stack.hook.flowyml_artifact_store_exists(uri=uri) is False
        self.save(stack, "second try", key)  # the key is still usable

    def test_fetch_missing_is_a_clear_error(self, stack: Stack, tmp_path: Path) -> None:
        uri = stack.hook.flowyml_artifact_store_uri(key=_key())
        assert stack.hook.flowyml_artifact_store_exists(uri=uri) is False
        with pytest.raises(ArtifactError, match=MANIFEST):
            stack.hook.flowyml_artifact_store_fetch(uri=uri, scratch=tmp_path / "scratch")

    def test_flowyml_artifact_store_delete_removes_the_artifact_only(self, stack: Stack, tmp_path: Path) -> None:
        uri, _ = self.save(stack, {"gone": True})
        other, manifest = self.save(stack, {"kept": True})
        assert stack.hook.flowyml_artifact_store_delete(uri=uri) is True
        assert stack.hook.flowyml_artifact_store_exists(uri=uri) is False
        with pytest.raises(ArtifactError, match=MANIFEST):
            stack.hook.flowyml_artifact_store_fetch(uri=uri, scratch=tmp_path / "scratch")
        assert stack.hook.flowyml_artifact_store_delete(uri=uri) is False
        assert fetch_and_read(stack, other, manifest["content_hash"]) == {"kept": True}

    @pytest.fixture
    def unusable_component_config(self) -> dict[str, Any] | None:
        """A configuration of this store that cannot be used (a bucket that does not exist, a root that is a file).

        Override it so the contract can check that ``flowyml_component_check`` fails on it; ``None`` skips that test.
        """
        return None

    def test_check_reports_what_it_verified(self, stack: Stack) -> None:
        results = stack.hook.flowyml_component_check()
        lines = [line for result in results for line in result]
        assert lines and all(isinstance(line, str) and line.strip() for line in lines), results
        # the check must say where it looked: the store's root, as its URIs spell it
        root = stack.hook.flowyml_artifact_store_uri(key="probe").rstrip("/").rsplit("/", 1)[0]
        assert any(root in line for line in lines), f"no line of {lines} names the store's root {root!r}"

    def test_check_fails_on_an_unusable_store(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unusable_component_config: dict[str, Any] | None, extra_components: dict[str, Any]) -> None:
        if unusable_component_config is None:
            pytest.skip("override the unusable_component_config fixture to check that the store's check can fail")
        folder = tmp_path / "unusable"
        folder.mkdir()
        monkeypatch.chdir(folder)
        broken = make_stack(folder, {**extra_components, self.kind: unusable_component_config})
        try:
            with pytest.raises(FlowymlError):
                broken.hook.flowyml_component_check()
        finally:
            broken.close()


class ModelRegistryContract(_Base):
    """What every model registry must do."""

    kind = "model_registry"

    @pytest.fixture
    def artifact_uri(self, stack: Stack) -> str:
        """A stored model's URI that the registry accepts. Override for registries that need their own store."""
        manifest: dict[str, Any] = {}
        uri: str = stack.hook.flowyml_artifact_store_save(key=_key(), write=lambda d: manifest.update(write_artifact(Model({"w": [1, 2]}), Path(d))))
        return uri

    def version(self, uri: str, name: str, version: str = "", content_hash: str = "h1", **kw: Any) -> ModelVersion:
        return ModelVersion(name=name, version=version, uri=uri, framework="sklearn", content_hash=content_hash, run_id="run-1", metrics={"accuracy": 0.91}, **kw)

    @pytest.fixture
    def model_name(self) -> str:
        return f"contract-model-{uuid.uuid4().hex[:8]}"

    def test_register_get_list(self, stack: Stack, artifact_uri: str, model_name: str) -> None:
        hook = stack.hook
        first = hook.flowyml_model_registry_register(model=self.version(artifact_uri, model_name, "1.0.0"))
        assert (first.name, first.version, first.status) == (model_name, "1.0.0", "registered")
        assert first.registry_id
        second = hook.flowyml_model_registry_register(model=self.version(artifact_uri, model_name, "1.1.0", content_hash="h2"))
        assert [v.version for v in hook.flowyml_model_registry_list(name=model_name)] == ["1.0.0", "1.1.0"]
        got = hook.flowyml_model_registry_get(name=model_name, version="1.0.0")
        assert got is not None and got.uri == artifact_uri and got.framework == "sklearn"
        latest = hook.flowyml_model_registry_get(name=model_name, version=None)
        assert latest is not None and latest.version == second.version
        assert hook.flowyml_model_registry_get(name=model_name, version="9.9.9") is None

    def test_versions_are_numbered_when_not_given(self, stack: Stack, artifact_uri: str, model_name: str) -> None:
        hook = stack.hook
        a = hook.flowyml_model_registry_register(model=self.version(artifact_uri, model_name, "", content_hash="a"))
        b = hook.flowyml_model_registry_register(model=self.version(artifact_uri, model_name, "", content_hash="b"))
        assert a.version and b.version and a.version != b.version

    def test_same_content_is_idempotent_other_content_is_refused(self, stack: Stack, artifact_uri: str, model_name: str) -> None:
        hook = stack.hook
        first = hook.flowyml_model_registry_register(model=self.version(artifact_uri, model_name, "2.0"))
        again = hook.flowyml_model_registry_register(model=self.version(artifact_uri, model_name, "2.0"))
        assert again.version == first.version and again.registry_id == first.registry_id
        with pytest.raises(RegistryError, match="already registered"):
            hook.flowyml_model_registry_register(model=self.version(artifact_uri, model_name, "2.0", content_hash="different"))

    def test_pending_then_approved(self, stack: Stack, artifact_uri: str, model_name: str) -> None:
        hook = stack.hook
        pending = hook.flowyml_model_registry_register(model=self.version(artifact_uri, model_name, "3.0", status="pending_approval"))
        assert pending.status == "pending_approval"
        approved = hook.flowyml_model_registry_set_status(name=model_name, version="3.0", status="approved")
        assert approved.status == "approved"
        assert hook.flowyml_model_registry_get(name=model_name, version="3.0").status == "approved"

    def test_unknown_version_status_change_is_a_clear_error(self, stack: Stack, model_name: str) -> None:
        with pytest.raises(ModelNotFoundError):
            stack.hook.flowyml_model_registry_set_status(name=model_name, version="404", status="approved")


class ModelDeployerContract(_Base):
    """What every model deployer must do. Override ``deployable_model`` to give two registered versions."""

    kind = "model_deployer"

    @pytest.fixture
    def deployable_models(self, stack: Stack) -> tuple[ModelVersion, ModelVersion]:
        raise NotImplementedError("override deployable_models: two ModelVersions the deployer can serve")

    @pytest.fixture
    def endpoint_name(self) -> str:
        return f"contract-{uuid.uuid4().hex[:8]}"

    def check_serving(self, deployment: Deployment) -> None:
        """Call the served endpoint (e.g. a prediction) and assert on the answer. Override it: a deployer
        that does not serve must fail the contract."""
        raise NotImplementedError("override check_serving: call the deployed endpoint and assert on its answer")

    def test_deploy_serve_undeploy(self, stack: Stack, deployable_models: tuple[ModelVersion, ModelVersion], endpoint_name: str) -> None:
        hook = stack.hook
        first, _ = deployable_models
        deployment = hook.flowyml_model_deployer_deploy(model=first, endpoint_name=endpoint_name, config={})
        try:
            assert isinstance(deployment, Deployment)
            assert (deployment.endpoint_name, deployment.model_name, deployment.model_version) == (endpoint_name, first.name, first.version)
            self.check_serving(deployment)
            listed = {d.endpoint_name: d for d in (hook.flowyml_model_deployer_list() or [])}
            assert listed[endpoint_name].model_version == first.version
        finally:
            assert hook.flowyml_model_deployer_undeploy(endpoint_name=endpoint_name) is True
        assert hook.flowyml_model_deployer_undeploy(endpoint_name=endpoint_name) is False
        assert endpoint_name not in {d.endpoint_name for d in (hook.flowyml_model_deployer_list() or [])}

    def test_redeploy_replaces_the_served_version(self, stack: Stack, deployable_models: tuple[ModelVersion, ModelVersion], endpoint_name: str) -> None:
        hook = stack.hook
        first, second = deployable_models
        hook.flowyml_model_deployer_deploy(model=first, endpoint_name=endpoint_name, config={})
        try:
            updated = hook.flowyml_model_deployer_deploy(model=second, endpoint_name=endpoint_name, config={})
            assert updated.model_version == second.version
            self.check_serving(updated)
            listed = {d.endpoint_name: d for d in (hook.flowyml_model_deployer_list() or [])}
            assert listed[endpoint_name].model_version == second.version
        finally:
            hook.flowyml_model_deployer_undeploy(endpoint_name=endpoint_name)


class TrackerContract(_Base):
    """What every experiment tracker must do. Override ``read_back`` to read what the tool recorded."""

    kind = "experiment_tracker"

    def read_back(self, stack: Stack, run: RunInfo) -> dict[str, Any]:
        """Return ``{"metrics": {key: [(step, value), ...]}, "params": {key: value}, "status": str, "tags": {...}}``."""
        raise NotImplementedError("override read_back to read the tracker's own records")

    def test_logs_metrics_with_steps_params_and_status(self, stack: Stack, tmp_path: Path) -> None:
        hook = stack.hook
        run = RunInfo(
            run_id=f"contract-{uuid.uuid4().hex[:8]}",
            pipeline_name="contract_pipeline",
            stack_name=stack.name,
            project_dir=str(tmp_path),
            tags={"flowyml.pipeline": "contract_pipeline"},
        )
        hook.flowyml_tracker_start_run(run=run)
        for step in range(3):
            hook.flowyml_tracker_log_metrics(metrics={"loss": 1.0 / (step + 1)}, step=step, metadata={}, step_name="train")
        hook.flowyml_tracker_log_metrics(metrics={"accuracy": 0.93}, step=None, metadata={"model_version": "1.0"}, step_name="evaluate")
        hook.flowyml_tracker_log_params(params={"learning_rate": 0.001, "epochs": 100, "optimizer.name": "adam"}, step_name="train")
        hook.flowyml_tracker_end_run(status="completed")
        got = self.read_back(stack, run)
        assert [s for s, _ in got["metrics"]["loss"]] == [0, 1, 2]
        assert [round(v, 6) for _, v in got["metrics"]["loss"]] == [1.0, 0.5, round(1 / 3, 6)]
        assert round(got["metrics"]["accuracy"][-1][1], 6) == 0.93
        assert float(got["params"]["learning_rate"]) == 0.001
        assert str(got["params"]["optimizer.name"]) == "adam"
        assert got["status"] in ("completed", "finished", "FINISHED", "success", 0)
