"""A stack in use: its components, built from configuration, behind one plugin manager."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import pluggy

from flowyml import redaction
from flowyml.config.interpolation import resolve
from flowyml.config.schema import ProjectConfig, StackConfig
from flowyml.errors import ConfigError, FlowymlError, PluginError
from flowyml.plugins import hookspecs
from flowyml.plugins.component import Component, ComponentContext
from flowyml.plugins.component_manager import ComponentPluginManager
from flowyml.plugins.kinds import Kind
from flowyml.plugins.loader import load_component_class
from flowyml.plugins.markers import PROJECT_NAME
from flowyml.stacks.facades import (
    FACADES,
    ArtifactStore,
    ComponentFacade,
    ModelDeployer,
    ModelRegistry,
    Orchestrator,
    Tracker,
)
from flowyml.stacks.options import structure_options

F = TypeVar("F", bound=ComponentFacade)


class Stack:
    """The components of one stack, registered in a pluggy manager of their own.

    Components are built on first use (``stack.artifact_store``,
    ``stack.component`` ...), which is when their backends are imported and
    ``${VAR}`` references in this stack alone are resolved. The core calls a
    component through its typed facade (:mod:`flowyml.stacks.facades`):
    ``stack.artifact_store``, ``stack.model_registry``, ``stack.model_deployer``,
    ``stack.orchestrator`` and ``stack.trackers`` (every experiment tracker).
    """

    def __init__(self, project: ProjectConfig, config: StackConfig, reason: str = "flag") -> None:
        self.project = project
        self.config = config
        self.reason = reason
        self._pm: pluggy.PluginManager | None = None
        self._components: dict[Kind, Component] = {}
        self._facades: list[ComponentFacade] = []
        self._metadata: Any = None
        self._secrets: int | None = None  # redaction token of this stack's secret values

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def project_dir(self) -> Path:
        return self.project.project_dir

    def has(self, kind: Kind) -> bool:
        return kind in self.config.components

    def type_of(self, kind: Kind) -> str | None:
        component = self.config.component(kind)
        return component.type if component else None

    @property
    def hook(self) -> Any:
        """The stack's pluggy hook relay (tests of a backend's hooks use it; the core uses the facades)."""
        return self.plugin_manager.hook

    @property
    def facades(self) -> list[ComponentFacade]:
        """Every component of the stack, each behind its facade, in the order the stack names them."""
        self.plugin_manager  # noqa: B018 - builds the components
        return list(self._facades)

    def _facade(self, cls: type[F]) -> F:
        for facade in self.facades:
            if isinstance(facade, cls):
                return facade
        component = self.config.component(cls.kind)
        raise ConfigError(
            f"stack {self.name!r} has no {cls.kind.value}",
            path=self.config.path,
            line=self.project.source.line(self.config.path),
            file=self.project.source.file,
            hint=f"add `{cls.kind.value}: {{ type: ... }}` to it, or pick another stack with --stack"
            if component is None
            else None,
        )

    @property
    def artifact_store(self) -> ArtifactStore:
        return self._facade(ArtifactStore)

    @property
    def model_registry(self) -> ModelRegistry:
        return self._facade(ModelRegistry)

    @property
    def model_deployer(self) -> ModelDeployer:
        return self._facade(ModelDeployer)

    @property
    def orchestrator(self) -> Orchestrator:
        return self._facade(Orchestrator)

    @property
    def trackers(self) -> list[Tracker]:
        """Every experiment tracker of the stack (none, one, or several: each receives every call)."""
        return [f for f in self.facades if isinstance(f, Tracker)]

    @property
    def plugin_manager(self) -> pluggy.PluginManager:
        if self._pm is None:
            self._pm = self._build()
        return self._pm

    def component(self, kind: Kind) -> Component | None:
        self.plugin_manager  # noqa: B018 - builds the components
        return self._components.get(kind)

    def attach_metadata(self, metadata: Any) -> None:
        """Share an open metadata store with the components (the local backends use it)."""
        self._metadata = metadata

    def _build(self) -> pluggy.PluginManager:
        """Build every component; an error leaves with this stack's secrets redacted from its message."""
        secrets: set[str] = set()
        for cfg in self.config.all_components():
            secrets |= redaction.secrets_of(cfg.options)
        self._secrets = redaction.register(secrets)
        try:
            return self._build_components()
        except BaseException as exc:
            redaction.redact_exception(exc)
            self.close()
            raise

    def _build_components(self) -> pluggy.PluginManager:
        pm = ComponentPluginManager(PROJECT_NAME)
        pm.add_hookspecs(hookspecs)
        source = self.project.source
        for cfg in self.config.all_components():
            kind = cfg.kind
            #: ``experiment_tracker``, or ``experiment_tracker[1]`` in a tracker list
            plugin_name = cfg.path.removeprefix(f"{self.config.path}.")
            cls = load_component_class(kind, cfg.type, stack=self.name)
            if cls.kind and cls.kind != kind.value:
                raise PluginError(
                    f"stack {self.name!r}: {cfg.type!r} is registered as a {kind.label} but its class "
                    f"{cls.__module__}.{cls.__qualname__} is a {cls.kind}"
                )
            raw = resolve(cfg.options, stack=self.name, path=cfg.path, lines=source.lines, file=source.file)
            options = structure_options(getattr(cls, "Options", dict), raw, cfg, lines=source.lines, file=source.file)
            context = ComponentContext(
                self.name, cfg.type, self.project_dir, self._metadata, cfg.path, source.file, source.lines
            )
            try:
                instance = cls(options, context)
            except Exception as exc:
                if isinstance(exc, FlowymlError):
                    raise
                raise PluginError(
                    redaction.redact(
                        f"stack {self.name!r}: the {kind.label} {cfg.type!r} could not be created: {type(exc).__name__}: {exc}"
                    ),
                    hint=f"check the options under {cfg.path} in flowyml.yaml",
                ) from redaction.redact_exception(exc)
            pm.register(instance, name=plugin_name)
            missing = [
                name
                for name in hookspecs.REQUIRED_HOOKS[kind.value]
                if not any(impl.plugin is instance for impl in getattr(pm.hook, name).get_hookimpls())
            ]
            if missing:
                raise PluginError(
                    f"{cls.__module__}.{cls.__qualname__} (the {kind.label} {cfg.type!r}) does not implement "
                    f"{', '.join(missing)}",
                    hint="decorate those methods with @flowyml.hookimpl",
                )
            self._components.setdefault(kind, instance)
            self._facades.append(FACADES[kind](pm, instance, self.name, plugin_name))
        return pm

    def close(self) -> None:
        """Close the components; from then on this stack's secrets are no longer redacted."""
        try:
            for facade in self._facades:
                facade.close()
        finally:
            redaction.release(self._secrets)
            self._secrets = None


def open_stack(project: ProjectConfig, name: str, reason: str = "flag") -> Stack:
    return Stack(project, project.stack(name), reason)
