"""The registry rules the core enforces for every registry (flowyml.registry_rules), on the real local registry."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from flowyml.errors import ModelNotFoundError, RegistryError, StoreError
from flowyml.plugins.kinds import Kind
from flowyml.plugins.types import ModelVersion
from flowyml.registry_rules import TRANSITIONS, check_transition, existing_version, next_number
from flowyml.runner.routes import with_retries
from flowyml.testing import make_stack
from flowyml_local.model_registry import LocalModelRegistry


def version(name: str = "m", v: str = "", content_hash: str | None = "h1", status: str = "registered") -> ModelVersion:
    return ModelVersion(name=name, version=v, uri="/tmp/m", content_hash=content_hash, status=status, run_id="r1")


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalModelRegistry:
    monkeypatch.chdir(tmp_path)
    stack = make_stack(tmp_path, {"model_registry": {"type": "local"}})
    component = stack.component(Kind.MODEL_REGISTRY)
    assert isinstance(component, LocalModelRegistry)
    return component


def test_same_version_same_content_is_returned_different_content_refused() -> None:
    existing = [version(v="1.0", content_hash="a")]
    assert existing_version(version(v="1.0", content_hash="a"), existing, "here") is existing[0]
    with pytest.raises(RegistryError, match="version 1.0 is already registered with different content in here"):
        existing_version(version(v="1.0", content_hash="b"), existing, "here")
    assert existing_version(version(v="2.0", content_hash="a"), existing, "here") is None


def test_unversioned_model_with_known_content_is_not_registered_twice() -> None:
    existing = [version(v="1", content_hash="a"), version(v="2", content_hash="b")]
    assert existing_version(version(content_hash="b"), existing, "here") is existing[1]
    assert existing_version(version(content_hash="c"), existing, "here") is None
    assert existing_version(version(content_hash=None), [version(v="1", content_hash=None)], "here") is None
    assert next_number(existing) == "3" and next_number([]) == "1"


def test_status_transitions() -> None:
    approved = version(v="1", status="approved")
    check_transition(approved, "archived")
    check_transition(approved, "approved")  # no change is always allowed
    with pytest.raises(RegistryError, match="is approved; it cannot become pending_approval") as caught:
        check_transition(approved, "pending_approval")
    assert "archived" in (caught.value.hint or "")
    with pytest.raises(RegistryError, match="unknown model status 'live'"):
        check_transition(approved, "live")
    assert all("registered" not in targets for targets in TRANSITIONS.values())


def test_registry_hooks_enforce_the_rules(registry: LocalModelRegistry) -> None:
    first = registry.flowyml_model_registry_register(model=version(v="1.0"))
    assert registry.flowyml_model_registry_register(model=version(v="1.0")) == first
    with pytest.raises(RegistryError, match="already registered with different content"):
        registry.flowyml_model_registry_register(model=version(v="1.0", content_hash="other"))
    with pytest.raises(RegistryError, match="unknown model status"):
        registry.flowyml_model_registry_register(model=version(v="2.0", status="live"))
    approved = registry.flowyml_model_registry_set_status(name="m", version="1.0", status="approved")
    assert approved.status == "approved"
    with pytest.raises(RegistryError, match="cannot become pending_approval"):
        registry.flowyml_model_registry_set_status(name="m", version="1.0", status="pending_approval")
    assert registry.flowyml_model_registry_get(name="m", version="1.0").status == "approved"
    with pytest.raises(ModelNotFoundError, match="version 9 is not in the local registry"):
        registry.flowyml_model_registry_set_status(name="m", version="9", status="approved")


class _AnswerLost(LocalModelRegistry):
    """Registers, then loses the answer once (a dropped connection after the backend committed)."""

    calls = 0

    def create_version(self, model: ModelVersion, existing: Sequence[ModelVersion]) -> ModelVersion:
        type(self).calls += 1
        created = super().create_version(model, existing)
        if type(self).calls == 1:
            raise StoreError("connection dropped before the answer arrived", transient=True)
        return created


def test_retried_registration_is_idempotent_by_content_hash(registry: LocalModelRegistry) -> None:
    flaky = _AnswerLost(registry.options, registry.context)
    got = with_retries(lambda: flaky.flowyml_model_registry_register(model=version(content_hash="x")), "registering m")
    assert got.version == "1"
    assert [v.version for v in registry.flowyml_model_registry_list(name="m")] == ["1"]
