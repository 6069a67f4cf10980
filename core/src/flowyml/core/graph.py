"""The step graph of a pipeline: nodes, how their inputs are bound, their order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from flowyml.errors import PipelineError

if TYPE_CHECKING:
    from flowyml.core.step import Step


class OutputRef(NamedTuple):
    """An input bound to an output of an earlier step."""

    step: str
    output: str


class Constant(NamedTuple):
    """An input bound to a fixed value (a pipeline parameter or a literal)."""

    value: Any
    source: str = "literal"  # or the pipeline parameter's name


class StepNode:
    """One invocation of a step in the graph, with how each parameter is bound."""

    def __init__(self, name: str, step: Step, bindings: dict[str, OutputRef | Constant]) -> None:
        self.name = name
        self.step = step
        self.bindings = bindings

    @property
    def upstream(self) -> list[str]:
        """Names of the steps whose outputs this one consumes."""
        return sorted({b.step for b in self.bindings.values() if isinstance(b, OutputRef)})


class OutputHandle:
    """What calling a step inside a ``@pipeline`` function returns: a future output."""

    def __init__(self, step: str, output: str) -> None:
        self.ref = OutputRef(step, output)

    def __iter__(self) -> Any:
        raise PipelineError(
            f"the output of step {self.ref.step!r} cannot be unpacked while the pipeline is being built",
            hint="declare the outputs with @step(outputs=['a', 'b']) to get one handle per output",
        )

    def __bool__(self) -> bool:
        raise PipelineError(
            f"the output of step {self.ref.step!r} has no value while the pipeline is being built",
            hint="branch inside a step, not in the @pipeline function",
        )

    def __repr__(self) -> str:
        return f"<output {self.ref.output!r} of step {self.ref.step!r}>"


class PipelineGraph:
    """Steps in insertion order, with their bindings; checked for cycles."""

    def __init__(self, name: str, nodes: Mapping[str, StepNode], params: Mapping[str, Any]) -> None:
        self.name = name
        self.nodes = dict(nodes)
        self.params = dict(params)
        self.order = self._topological()

    def _topological(self) -> list[str]:
        order: list[str] = []
        state: dict[str, int] = {}

        def visit(name: str, chain: list[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                cycle = " -> ".join([*chain[chain.index(name) :], name])
                raise PipelineError(f"pipeline {self.name!r} has a cycle: {cycle}")
            state[name] = 1
            for up in self.nodes[name].upstream:
                if up not in self.nodes:
                    raise PipelineError(f"step {name!r} depends on unknown step {up!r}")
                visit(up, [*chain, name])
            state[name] = 2
            order.append(name)

        for name in self.nodes:
            visit(name, [])
        return order

    def downstream(self, name: str) -> list[str]:
        return [n for n, node in self.nodes.items() if name in node.upstream]


class GraphBuilder:
    """Collects step invocations made while a ``@pipeline`` function runs."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.nodes: dict[str, StepNode] = {}

    def add_invocation(self, step: Step, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            bound = step.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise PipelineError(f"step {step.name!r} called with the wrong arguments: {exc}") from exc
        node_name = step.name
        n = 2
        while node_name in self.nodes:
            node_name = f"{step.name}_{n}"
            n += 1
        bindings: dict[str, OutputRef | Constant] = {}
        for param, value in bound.arguments.items():
            kind = step.signature.parameters[param].kind
            if kind.name in ("VAR_POSITIONAL", "VAR_KEYWORD"):
                raise PipelineError(f"step {step.name!r}: *args/**kwargs parameters cannot be wired in a pipeline")
            bindings[param] = self._bind(value, step, param)
        self.nodes[node_name] = StepNode(node_name, step, bindings)
        names = step.output_names
        handles = [OutputHandle(node_name, out) for out in names]
        return handles[0] if len(handles) == 1 else tuple(handles)

    @staticmethod
    def _bind(value: Any, step: Step, param: str) -> OutputRef | Constant:
        if isinstance(value, OutputHandle):
            return value.ref
        if isinstance(value, list | tuple) and any(isinstance(v, OutputHandle) for v in value):
            raise PipelineError(
                f"step {step.name!r}, parameter {param!r}: a list of step outputs cannot be passed as one input",
                hint="pass each output to its own parameter",
            )
        return Constant(value)
