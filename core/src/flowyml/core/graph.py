"""The step graph of a pipeline: nodes, how their inputs are bound, their order."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
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
        self._downstream: dict[str, list[str]] | None = None
        self.order = self._topological()

    def _topological(self) -> list[str]:
        """Depth-first post-order in insertion order, without recursion (a 10,000-step chain is fine)."""
        order: list[str] = []
        done: set[str] = set()
        for root in self.nodes:
            if root in done:
                continue
            path: list[str] = [root]  # the chain being visited: what a cycle message shows
            on_path: set[str] = {root}
            pending: list[Iterator[str]] = [iter(self._upstream_of(root))]
            while pending:
                up = next(pending[-1], None)
                if up is None:
                    pending.pop()
                    name = path.pop()
                    on_path.discard(name)
                    done.add(name)
                    order.append(name)
                    continue
                if up in done:
                    continue
                if up in on_path:
                    cycle = " -> ".join([*path[path.index(up) :], up])
                    raise PipelineError(f"pipeline {self.name!r} has a cycle: {cycle}")
                if up not in self.nodes:
                    raise PipelineError(f"step {path[-1]!r} depends on unknown step {up!r}")
                path.append(up)
                on_path.add(up)
                pending.append(iter(self._upstream_of(up)))
        return order

    def _upstream_of(self, name: str) -> list[str]:
        return self.nodes[name].upstream

    def downstream(self, name: str) -> list[str]:
        """Names of the steps that consume an output of ``name``, in insertion order."""
        if self._downstream is None:
            table: dict[str, list[str]] = {n: [] for n in self.nodes}
            for n, node in self.nodes.items():
                for up in node.upstream:
                    table.setdefault(up, []).append(n)
            self._downstream = table
        return list(self._downstream.get(name, []))


class GraphBuilder:
    """Collects step invocations made while a ``@pipeline`` function runs."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.nodes: dict[str, StepNode] = {}
        self._next_suffix: dict[str, int] = {}  # step name -> first suffix not yet tried (keeps naming linear)

    def add_invocation(self, step: Step, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            bound = step.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise PipelineError(f"step {step.name!r} called with the wrong arguments: {exc}") from exc
        node_name = step.name
        if node_name in self.nodes:
            n = self._next_suffix.get(step.name, 2)
            while f"{step.name}_{n}" in self.nodes:
                n += 1
            node_name = f"{step.name}_{n}"
            self._next_suffix[step.name] = n + 1
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
