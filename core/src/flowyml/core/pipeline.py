"""Pipelines: ``@pipeline`` on a function, or the explicit ``Pipeline("name")`` API.

Both build a :class:`~flowyml.core.graph.PipelineGraph` and run it with the
same engine.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from flowyml.core import building
from flowyml.core.graph import Constant, GraphBuilder, OutputRef, PipelineGraph, StepNode
from flowyml.core.step import Step
from flowyml.errors import PipelineError
from flowyml.naming import check_name

if TYPE_CHECKING:
    from flowyml.runner.result import PipelineRun


class _Runnable:
    name: str

    def build(self, params: Mapping[str, Any]) -> PipelineGraph:
        raise NotImplementedError

    def run(self, stack: str | None = None, cache: bool = True, progress: bool | None = None, **params: Any) -> PipelineRun:
        """Run the pipeline on a stack and return its run.

        ``stack`` overrides every other way of choosing the stack; ``cache=False``
        re-runs every step; ``progress`` prints a line per step as it starts and
        ends, like ``flowyml run`` (default: when stdout is a terminal;
        ``progress=False`` turns it off); other keyword arguments are pipeline
        parameters.
        """
        from flowyml.runner.engine import run_pipeline

        if progress is None:
            progress = _is_terminal(sys.stdout)
        reporter = None
        if progress:
            from flowyml.cli.output import StepProgress

            reporter = StepProgress()
        return run_pipeline(self, params=params, stack=stack, cache=cache, progress=reporter)


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # replaced or closed streams
        return False


class FunctionPipeline(_Runnable):
    """A pipeline defined by a function whose body calls steps."""

    def __init__(self, fn: Callable[..., Any], name: str | None = None) -> None:
        self.fn = fn
        self.name = check_name(fn.__name__ if name is None else name, "pipeline name")
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn

    def build(self, params: Mapping[str, Any]) -> PipelineGraph:
        import inspect

        signature = inspect.signature(self.fn)
        try:
            bound = signature.bind(**params)
        except TypeError as exc:
            raise PipelineError(f"pipeline {self.name!r}: {exc}", hint=f"its parameters: {signature}") from exc
        bound.apply_defaults()
        builder = GraphBuilder(self.name)
        token = building.set_builder(builder)
        try:
            self.fn(*bound.args, **bound.kwargs)
        finally:
            building.reset_builder(token)
        if not builder.nodes:
            raise PipelineError(f"pipeline {self.name!r} calls no step", hint="call @step functions in its body")
        return PipelineGraph(self.name, builder.nodes, dict(bound.arguments))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<pipeline {self.name}>"


def pipeline(fn: Callable[..., Any] | None = None, *, name: str | None = None) -> Any:
    """Turn a function that calls steps into a pipeline: ``@pipeline`` or ``@pipeline(name=...)``."""
    if fn is not None:
        return FunctionPipeline(fn)
    return lambda func: FunctionPipeline(func, name=name)


class Pipeline(_Runnable):
    """The explicit API: ``p = Pipeline("name"); p.add_step(fn); p.run()``.

    A step's ``inputs`` are matched by name to earlier steps' ``outputs``;
    function parameters not listed in ``inputs`` come from ``params`` (given
    here or to ``run``) by name, or keep their defaults.
    """

    def __init__(self, name: str, params: Mapping[str, Any] | None = None) -> None:
        self.name = check_name(name, "pipeline name")
        self.params = dict(params or {})
        self.steps: list[Step] = []
        #: The module that created the pipeline (lets remote steps import it again).
        self.module_name: str | None = sys._getframe(1).f_globals.get("__name__")

    def add_step(self, step: Step | Callable[..., Any]) -> Pipeline:
        if not isinstance(step, Step):
            step = Step(step)
        if any(s.name == step.name for s in self.steps):
            raise PipelineError(f"pipeline {self.name!r} already has a step named {step.name!r}")
        self.steps.append(step)
        return self

    def build(self, params: Mapping[str, Any]) -> PipelineGraph:
        values = {**self.params, **params}
        producers: dict[str, OutputRef] = {}
        nodes: dict[str, StepNode] = {}
        seen: dict[str, str] = {}
        for step in self.steps:
            for out in step.outputs or []:
                if out in seen:
                    raise PipelineError(
                        f"output {out!r} is produced by both {seen[out]!r} and {step.name!r}",
                        hint="give each step's outputs distinct names",
                    )
                seen[out] = step.name
        for step in self.steps:
            sig_params = [p for p in step.signature.parameters.values() if p.kind.name not in ("VAR_POSITIONAL", "VAR_KEYWORD")]
            bindings: dict[str, OutputRef | Constant] = {}
            inputs = list(step.inputs or [])
            if len(inputs) > len(sig_params):
                raise PipelineError(f"step {step.name!r} declares {len(inputs)} inputs but takes {len(sig_params)} parameters")
            for param, input_name in zip(sig_params, inputs, strict=False):
                ref = producers.get(input_name)
                if ref is None:
                    later = [s.name for s in self.steps if input_name in (s.outputs or [])]
                    hint = (
                        f"step {later[0]!r} produces it but is added after {step.name!r}: add it first"
                        if later
                        else "add a step with that name in outputs=[...]"
                    )
                    raise PipelineError(f"step {step.name!r} needs input {input_name!r}, which no earlier step produces", hint=hint)
                bindings[param.name] = ref
            for param in sig_params[len(inputs) :]:
                if param.name in values:
                    bindings[param.name] = Constant(values[param.name], source=param.name)
                elif param.default is param.empty:
                    raise PipelineError(
                        f"step {step.name!r} needs parameter {param.name!r}",
                        hint=f"pass it to run({param.name}=...), to Pipeline(..., params=...), or list it in inputs=[...]",
                    )
            nodes[step.name] = StepNode(step.name, step, bindings)
            for out in step.output_names:
                producers[out if step.outputs else f"{step.name}.output"] = OutputRef(step.name, out)
        if not nodes:
            raise PipelineError(f"pipeline {self.name!r} has no steps", hint="add them with add_step(fn)")
        return PipelineGraph(self.name, nodes, values)

    def __repr__(self) -> str:
        return f"<Pipeline {self.name} steps={[s.name for s in self.steps]}>"
