"""Typed calls into a stack's components: one small facade per component kind.

The hookspecs (:mod:`flowyml.plugins.hookspecs`) stay the contract a backend
implements; the core, the CLI and ``flowyml stack check`` call a component
only through these facades (``stack.artifact_store.save(key, write)``,
``stack.model_registry.register(model)``, ...), as tox's ``Plugin`` class
stands between tox and ``pm.hook``. A facade calls exactly its own
component's hook implementation (several trackers share one plugin manager),
gives typed results, and turns "the component answered nothing" into one
:class:`~flowyml.errors.PluginError` naming the component and the hook.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pluggy

from flowyml.errors import FlowymlError, PluginError, StoreError
from flowyml.plugins.kinds import Kind
from flowyml.plugins.types import Deployment, Manifest, ModelVersion, RunHandle, RunInfo
from flowyml.redaction import redact_exception

if TYPE_CHECKING:
    from flowyml.plugins.component import Component
    from flowyml.serialization.writer import ArtifactWriter

#: What ``ArtifactStore.save`` hands the store: fills a staging folder, returns the manifest it wrote.
Writer = Callable[[Path], Mapping[str, Any]]


class _CallableWriter:
    """A plain writer function, keeping the manifest it returned."""

    def __init__(self, write: Writer) -> None:
        self._write = write
        self.manifest: Mapping[str, Any] | None = None

    def __call__(self, directory: Path) -> Mapping[str, Any]:
        self.manifest = self._write(Path(directory))
        return self.manifest


class ComponentFacade:
    """The calls the core makes into one component of a stack."""

    kind: ClassVar[Kind]

    def __init__(self, pm: pluggy.PluginManager, component: Component, stack_name: str, name: str) -> None:
        self.component = component
        self.stack_name = stack_name
        #: The component's name in the stack's plugin manager (``experiment_tracker``, ``experiment_tracker[1]``).
        self.name = name
        self._pm = pm
        self._callers: dict[str, Any] = {}

    @property
    def type(self) -> str:
        """The YAML ``type`` of the component (``gcs``, ``mlflow``, ...)."""
        return self.component.type

    @property
    def label(self) -> str:
        return f"{self.kind.label} {self.type!r} of stack {self.stack_name!r}"

    def _caller(self, hook: str) -> Any:
        caller = self._callers.get(hook)
        if caller is None:
            others = [p for p in self._pm.get_plugins() if p is not self.component]
            caller = self._callers[hook] = self._pm.subset_hook_caller(hook, remove_plugins=others)
        return caller

    def implements(self, hook: str) -> bool:
        return any(impl.plugin is self.component for impl in getattr(self._pm.hook, hook).get_hookimpls())

    def call(self, hook: str, **kwargs: Any) -> Any:
        """Call this component's implementation of ``hook``; None when it returned nothing."""
        caller = self._caller(hook)
        try:
            result = caller(**kwargs)
        except Exception as exc:
            redact_exception(exc)  # a component's message leaves it here: no secret in it, or in its causes
            raise
        if caller.spec is not None and not caller.spec.opts.get("firstresult"):
            return result[0] if result else None  # a hook without firstresult: this component's one answer
        return result

    def answer(self, hook: str, **kwargs: Any) -> Any:
        """Like :meth:`call`, for hooks that must return something."""
        result = self.call(hook, **kwargs)
        if result is None:
            raise PluginError(
                f"the {self.label} returned nothing from {hook}",
                hint=f"{type(self.component).__module__}.{type(self.component).__qualname__}.{hook} must return a value "
                "(see the hook reference in docs/writing-a-plugin.md)",
            )
        return result

    def check(self) -> list[str] | None:
        """What ``flowyml_component_check`` verified, or None when the component offers no check."""
        if not self.implements("flowyml_component_check"):
            return None
        return list(self.call("flowyml_component_check") or [])

    def close(self) -> None:
        self.component.close()


class ArtifactStore(ComponentFacade):
    kind = Kind.ARTIFACT_STORE

    def save(self, key: str, write: Writer | ArtifactWriter) -> Manifest:
        """Store one artifact under ``key``: the store stages a folder, ``write`` fills it and returns the manifest.

        An :class:`~flowyml.serialization.writer.ArtifactWriter` goes to the
        store as it is (a store may ask it for the packed form of a small
        artifact); any other writer is called with the staging folder.
        """
        from flowyml.serialization.writer import ArtifactWriter

        writer = write if isinstance(write, ArtifactWriter) else _CallableWriter(write)
        try:
            uri = self.call("flowyml_artifact_store_save", key=key, write=writer)
        except FlowymlError:
            raise
        except Exception as exc:
            raise StoreError(
                f"the {self.label} failed to store {key}: {type(exc).__name__}: {exc}",
                hint=f"check the artifact store (flowyml stack check {self.stack_name})",
            ) from exc
        if uri is None or writer.manifest is None:
            raise StoreError(f"the {self.label} did not store {key} (no URI returned, or the artifact was never written)")
        return Manifest.from_dict(str(uri), dict(writer.manifest))

    def fetch(self, uri: str, scratch: Path) -> Path:
        return Path(self.answer("flowyml_artifact_store_fetch", uri=uri, scratch=scratch))

    def exists(self, uri: str) -> bool:
        return bool(self.call("flowyml_artifact_store_exists", uri=uri))

    def uri(self, key: str) -> str:
        return str(self.answer("flowyml_artifact_store_uri", key=key))

    @property
    def can_delete(self) -> bool:
        """Whether the store implements the optional ``flowyml_artifact_store_delete``."""
        return self.implements("flowyml_artifact_store_delete")

    def delete(self, uri: str) -> bool:
        """Delete the artifact at ``uri`` (False: nothing was there); a PluginError for a store that cannot."""
        if not self.can_delete:
            raise PluginError(f"the {self.label} cannot delete artifacts (it does not implement flowyml_artifact_store_delete)")
        return bool(self.call("flowyml_artifact_store_delete", uri=uri))


class ModelRegistry(ComponentFacade):
    kind = Kind.MODEL_REGISTRY

    def register(self, model: ModelVersion) -> ModelVersion:
        registered: ModelVersion = self.answer("flowyml_model_registry_register", model=model)
        return registered

    def get(self, name: str, version: str | None = None) -> ModelVersion | None:
        found: ModelVersion | None = self.call("flowyml_model_registry_get", name=name, version=version)
        return found

    def list(self, name: str | None = None) -> list[ModelVersion]:
        return list(self.call("flowyml_model_registry_list", name=name) or [])

    def set_status(self, name: str, version: str, status: str) -> ModelVersion:
        changed: ModelVersion = self.answer("flowyml_model_registry_set_status", name=name, version=version, status=status)
        return changed


class ModelDeployer(ComponentFacade):
    kind = Kind.MODEL_DEPLOYER

    def deploy(self, model: ModelVersion, endpoint_name: str, config: Mapping[str, Any]) -> Deployment:
        deployment: Deployment = self.answer("flowyml_model_deployer_deploy", model=model, endpoint_name=endpoint_name, config=dict(config))
        return deployment

    def undeploy(self, endpoint_name: str) -> bool:
        return bool(self.call("flowyml_model_deployer_undeploy", endpoint_name=endpoint_name))

    def list(self) -> list[Deployment]:
        if not self.implements("flowyml_model_deployer_list"):
            return []
        return list(self.call("flowyml_model_deployer_list") or [])


class Tracker(ComponentFacade):
    """One experiment tracker (a stack may have several: each gets every call)."""

    kind = Kind.EXPERIMENT_TRACKER

    def start_run(self, run: RunInfo) -> str | None:
        """Open the tracker's run; where it can be seen (a URL or a local folder), when the tracker says."""
        where: str | None = self.call("flowyml_tracker_start_run", run=run)
        return where or None

    def log_metrics(self, metrics: Mapping[str, float], step: int | None, metadata: Mapping[str, Any], step_name: str) -> None:
        self.call("flowyml_tracker_log_metrics", metrics=metrics, step=step, metadata=metadata, step_name=step_name)

    def log_params(self, params: Mapping[str, Any], step_name: str) -> None:
        self.call("flowyml_tracker_log_params", params=params, step_name=step_name)

    def end_run(self, status: str) -> None:
        self.call("flowyml_tracker_end_run", status=status)


class Orchestrator(ComponentFacade):
    kind = Kind.ORCHESTRATOR

    def run(self, run: RunHandle) -> None:
        """Hand the run to the orchestrator; a PluginError when it declines it."""
        if not self.call("flowyml_orchestrator_run", run=run):
            raise PluginError(f"the {self.label} did not run the pipeline (flowyml_orchestrator_run returned nothing)")


FACADES: dict[Kind, type[ComponentFacade]] = {
    cls.kind: cls for cls in (Orchestrator, ArtifactStore, ModelRegistry, ModelDeployer, Tracker)
}
