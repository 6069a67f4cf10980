"""Checking a stack without building it: its structure, routing and option types.

``stack list`` uses :func:`structural_problem` (no plugin is imported, so it
stays fast for thousands of stacks); ``stack show`` and ``route plan`` also
use :func:`option_problems`, which loads each backend's options class (not
the backend's SDK) and checks the options' types and ranges.
"""

from __future__ import annotations

from flowyml import redaction
from flowyml.config.schema import ProjectConfig, StackConfig
from flowyml.errors import FlowymlError, InterpolationError, PluginError
from flowyml.routing.validate import validate_stack


def structural_problem(project: ProjectConfig, name: str) -> FlowymlError | None:
    """The first structural or routing error of stack ``name``, or None."""
    try:
        validate_stack(project, project.stack(name))
    except FlowymlError as exc:
        return exc
    return None


def option_problems(project: ProjectConfig, config: StackConfig) -> tuple[list[FlowymlError], list[str]]:
    """Option errors of every installed component of ``config``, and notes on what could not be checked.

    ``${VAR}`` references are resolved from the environment as a run would;
    a component whose variables are not set is noted, not failed.
    """
    from flowyml.config.interpolation import resolve
    from flowyml.plugins.loader import load_component_class
    from flowyml.stacks.options import structure_options

    source = project.source
    errors: list[FlowymlError] = []
    notes: list[str] = []
    for cfg in config.all_components():
        kind = cfg.kind
        try:
            cls = load_component_class(kind, cfg.type, stack=config.name)
        except PluginError:
            notes.append(f"{cfg.path}: options not checked ({cfg.type!r} is not installed)")
            continue
        token = redaction.register(redaction.secrets_of(cfg.options))
        try:
            try:
                raw = resolve(cfg.options, stack=config.name, path=cfg.path, lines=source.lines, file=source.file)
            except InterpolationError as exc:
                notes.append(f"{cfg.path}: options not checked ({exc.message.split(': ', 1)[-1]})")
                continue
            try:
                structure_options(getattr(cls, "Options", dict), raw, cfg, lines=source.lines, file=source.file)
            except FlowymlError as exc:
                errors.append(redaction.redact_exception(exc))  # type: ignore[arg-type]
        finally:
            redaction.release(token)
    return errors, notes


def check_stack_options(project: ProjectConfig, config: StackConfig) -> None:
    """Raise the first option error of ``config`` (see :func:`option_problems`)."""
    errors, _ = option_problems(project, config)
    if errors:
        raise errors[0]
