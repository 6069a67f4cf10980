"""A run's step settings: resolved from code and flowyml.yaml, then checked by the stack's orchestrator.

Everything here happens before any step runs: a step name under ``steps:``
that the pipeline does not have, or a setting the orchestrator cannot honour,
stops the run with an error naming the orchestrator, the step, the setting
and where it is written (the YAML line, or the ``@step(...)`` argument).
"""

from __future__ import annotations

import attrs

from flowyml.config.step_settings import resolve
from flowyml.core.graph import PipelineGraph
from flowyml.core.settings import StepSettings
from flowyml.errors import ConfigError, FlowymlError, PipelineError
from flowyml.plugins.component import SettingProblem
from flowyml.plugins.kinds import Kind
from flowyml.stacks.stack import Stack


@attrs.frozen
class SettingNote:
    """A setting the orchestrator ignores (recorded in the run, e.g. resources on the local orchestrator)."""

    step: str
    setting: str
    message: str


def resolve_settings(graph: PipelineGraph, stack: Stack) -> dict[str, StepSettings]:
    """Each step's settings on ``stack``: ``@step(...)``, then the top-level ``steps:``, then the stack's."""
    return resolve(graph.name, graph.nodes, [stack.project.steps, stack.config.steps], file=stack.project.source.file)


def check_settings(stack: Stack, settings: dict[str, StepSettings]) -> list[SettingNote]:
    """Ask the orchestrator about every step's settings; raise for the first it cannot honour, return the notes."""
    orchestrator = stack.component(Kind.ORCHESTRATOR)
    if orchestrator is None:
        return []
    notes: list[SettingNote] = []
    label = f"the {orchestrator.type} orchestrator of stack {stack.name!r}"
    for step, values in settings.items():
        for problem in orchestrator.check_step_settings(step, values):
            if problem.ignored:
                notes.append(SettingNote(step, problem.setting, problem.message))
                continue
            raise settings_error(label, step, values, problem)
    return notes


def settings_error(label: str, step: str, settings: StepSettings, problem: SettingProblem) -> FlowymlError:
    origin = settings.origin(problem.setting)
    message = f"{label} cannot honour {problem.setting} of step {step!r}: {problem.message}"
    if origin.path is None:
        return PipelineError(f"{message} (set by @step({problem.setting.split('.')[0]}=...))", hint=problem.hint)
    return ConfigError(message, path=origin.path, line=origin.line, file=origin.file, hint=problem.hint)
