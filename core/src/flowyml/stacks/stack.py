"""A stack in use: its components, built from configuration, behind one plugin manager."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pluggy

from flowyml.config.interpolation import resolve
from flowyml.config.schema import ProjectConfig, StackConfig
from flowyml.errors import FlowymlError, PluginError
from flowyml.plugins import hookspecs
from flowyml.plugins.component import Component, ComponentContext
from flowyml.plugins.kinds import Kind
from flowyml.plugins.loader import load_component_class
from flowyml.plugins.markers import PROJECT_NAME
from flowyml.stacks.options import structure_options


class Stack:
    """The components of one stack, registered in a pluggy manager of their own.

    Components are built on first use (``stack.hook`` or ``stack.component``),
    which is when their backends are imported and ``${VAR}`` references in
    this stack alone are resolved.
    """

    def __init__(self, project: ProjectConfig, config: StackConfig, reason: str = "flag") -> None:
        self.project = project
        self.config = config
        self.reason = reason
        self._pm: pluggy.PluginManager | None = None
        self._components: dict[Kind, Component] = {}
        self._metadata: Any = None

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
        return self.plugin_manager.hook

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
        pm = pluggy.PluginManager(PROJECT_NAME)
        pm.add_hookspecs(hookspecs)
        source = self.project.source
        for kind, cfg in self.config.components.items():
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
                    f"stack {self.name!r}: the {kind.label} {cfg.type!r} could not be created: {type(exc).__name__}: {exc}",
                    hint=f"check the options under {cfg.path} in flowyml.yaml",
                ) from exc
            pm.register(instance, name=kind.value)
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
            self._components[kind] = instance
        return pm

    def close(self) -> None:
        for component in self._components.values():
            component.close()


def open_stack(project: ProjectConfig, name: str, reason: str = "flag") -> Stack:
    return Stack(project, project.stack(name), reason)
