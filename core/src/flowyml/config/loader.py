"""Load the project's configuration (flowyml.yaml or the embedded default)."""

from __future__ import annotations

from pathlib import Path

from flowyml.config.defaults import DEFAULT_STACK_NAME
from flowyml.config.schema import ProjectConfig, build_project
from flowyml.config.source import find_config, load_source
from flowyml.stacks.selection import StackChoice, choose_stack


def load_project(start: Path | None = None) -> ProjectConfig:
    """Find and parse flowyml.yaml (structure only: no plugin is loaded, no ${VAR} resolved)."""
    return build_project(load_source(find_config(start)))


def resolve_stack_name(project: ProjectConfig, explicit: str | None = None) -> StackChoice:
    """Apply the stack precedence rules and check the chosen stack exists."""
    choice = choose_stack_name(project, explicit)
    project.stack(choice.name)
    return choice


def choose_stack_name(project: ProjectConfig, explicit: str | None = None) -> StackChoice:
    """The stack the precedence rules pick, without checking it is defined and valid."""
    names = project.names or tuple(project.stacks)
    default = DEFAULT_STACK_NAME if DEFAULT_STACK_NAME in names else next(iter(names), DEFAULT_STACK_NAME)
    active = project.active_stack if project.file is not None else None
    return choose_stack(explicit, active, default)
