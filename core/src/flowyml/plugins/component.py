"""Base class of stack components (the objects backends register hooks on)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

if TYPE_CHECKING:
    from flowyml.core.settings import StepSettings
    from flowyml.errors import ConfigError
    from flowyml.metadata.store import MetadataStore


@attrs.frozen
class NoOptions:
    """Options class of a component that takes no options."""


@attrs.frozen
class OptionProblem:
    """One wrong option value: which option, what is wrong, and how to fix it.

    A component returns these from :meth:`Component.check_options`; the core
    reports the first as a :class:`~flowyml.errors.ConfigError` pointing at the
    option's YAML path and line.
    """

    option: str
    message: str
    hint: str | None = None


@attrs.frozen
class SettingProblem:
    """A step setting an orchestrator cannot honour (an error), or honours by ignoring it (``ignored=True``: a note).

    ``setting`` is the dotted key as written: ``timeout``, ``resources.gpu_type``,
    ``vertex.machine_type``. An orchestrator returns these from
    :meth:`Component.check_step_settings`; the core raises the first error
    (naming the orchestrator, the step, the setting and where it is written)
    before any step runs, and records each note in the run.
    """

    setting: str
    message: str
    hint: str | None = None
    ignored: bool = False


@attrs.define
class ComponentContext:
    """What the core tells a component about where it runs."""

    stack_name: str
    component_type: str
    project_dir: Path
    _metadata: MetadataStore | None = None
    #: Dotted YAML path of this component (``stacks.prod.artifact_store``).
    yaml_path: str = ""
    config_file: str | None = None
    _lines: dict[str, int] = attrs.field(factory=dict)

    def config_error(self, option: str, message: str, hint: str | None = None) -> ConfigError:
        """A ConfigError pointing at one of this component's options (YAML path and line)."""
        from flowyml.errors import ConfigError

        path = f"{self.yaml_path}.{option}" if self.yaml_path else option
        return ConfigError(message, path=path, line=self._lines.get(path) or self._lines.get(self.yaml_path), file=self.config_file, hint=hint)

    def raise_first(self, problems: Iterable[OptionProblem]) -> None:
        """Raise :meth:`config_error` for the first of ``problems`` (nothing when there are none)."""
        for problem in problems:
            raise self.config_error(problem.option, problem.message, problem.hint)

    @property
    def metadata(self) -> MetadataStore:
        """The project's metadata store (the local backends keep their state there)."""
        if self._metadata is None:
            from flowyml.metadata.store import MetadataStore

            self._metadata = MetadataStore.for_project(self.project_dir)
        return self._metadata


class Component:
    """A configured backend instance: one per component kind in a stack.

    Subclasses set ``kind`` (``artifact_store``, ``model_registry``, ...) and
    ``Options`` (an attrs class; the core builds it from the YAML with
    cattrs, rejecting unknown keys), and implement the kind's hooks from
    :mod:`flowyml.plugins.hookspecs` as methods decorated with
    ``@flowyml.hookimpl``. Keep vendor SDK imports inside methods so that
    validating a stack stays cheap.

    Checks a type cannot express (a bucket name's syntax, a range) go in
    :meth:`check_options`: the base class runs it when the component is built
    and reports the first problem with its YAML path and line.
    """

    kind: ClassVar[str] = ""
    Options: ClassVar[type[Any]] = NoOptions

    def __init__(self, options: Any, context: ComponentContext) -> None:
        self.options = options
        self.context = context
        context.raise_first(self.check_options(options))

    @classmethod
    def check_options(cls, options: Any) -> Iterable[OptionProblem]:
        """Every problem with ``options`` beyond their types (none by default). Override per backend."""
        return ()

    def check_step_settings(self, step: str, settings: StepSettings) -> Iterable[SettingProblem]:
        """An orchestrator's verdict on one step's settings: what it cannot honour, what it ignores.

        Called for every step before a run starts. The default accepts
        everything; an orchestrator that maps settings onto its platform
        overrides it (and reads its own section, ``settings.section(...)``).
        """
        return ()

    @property
    def type(self) -> str:
        return self.context.component_type

    def describe(self) -> str:
        """A one-line description for ``flowyml stack show`` (no secrets)."""
        return f"{self.type} {type(self).__name__}"

    def close(self) -> None:
        """Release clients, sessions or threads; called when a run ends."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind}:{self.type} of stack {self.context.stack_name!r}>"
