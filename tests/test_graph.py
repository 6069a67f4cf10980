"""The step graph: node naming for repeated calls, execution order, cycles, downstream lookups."""

from __future__ import annotations

import pytest

from flowyml import pipeline, step
from flowyml.core.graph import Constant, OutputRef, PipelineGraph, StepNode
from flowyml.errors import PipelineError


@step(cache=False)
def inc(x: int) -> int:
    return x + 1


@step(name="inc_3", cache=False)
def named_inc_3(x: int) -> int:
    return x + 3


def _chain(n: int, *, reverse: bool) -> PipelineGraph:
    """A linear chain s0 -> s1 -> ... built directly, optionally inserted in reverse order."""
    nodes = [StepNode("s0", inc, {"x": Constant(0)})]
    nodes += [StepNode(f"s{i}", inc, {"x": OutputRef(f"s{i - 1}", "output")}) for i in range(1, n)]
    if reverse:
        nodes.reverse()
    return PipelineGraph("chain", {node.name: node for node in nodes}, {})


def test_repeated_calls_get_numbered_names_skipping_taken_ones() -> None:
    @pipeline
    def p() -> None:
        a = inc(0)
        b = named_inc_3(a)  # takes the name inc_3 before the fourth inc call wants it
        c = inc(b)
        d = inc(c)
        inc(d)

    graph = p.build({})
    assert list(graph.nodes) == ["inc", "inc_3", "inc_2", "inc_4", "inc_5"]
    assert graph.order == ["inc", "inc_3", "inc_2", "inc_4", "inc_5"]
    assert graph.nodes["inc_2"].bindings["x"] == OutputRef("inc_3", "output")


def test_a_deep_chain_inserted_in_reverse_orders_without_recursion_limits() -> None:
    graph = _chain(5_000, reverse=True)  # far deeper than Python's recursion limit
    assert graph.order == [f"s{i}" for i in range(5_000)]


def test_order_is_depth_first_in_insertion_order() -> None:
    nodes = {
        "c": StepNode("c", inc, {"x": OutputRef("b", "output")}),
        "a": StepNode("a", inc, {"x": Constant(0)}),
        "b": StepNode("b", inc, {"x": OutputRef("a", "output")}),
        "d": StepNode("d", inc, {"x": Constant(1)}),
    }
    assert PipelineGraph("p", nodes, {}).order == ["a", "b", "c", "d"]


def test_cycle_is_named_step_by_step() -> None:
    nodes = {
        "a": StepNode("a", inc, {"x": OutputRef("c", "output")}),
        "b": StepNode("b", inc, {"x": OutputRef("a", "output")}),
        "c": StepNode("c", inc, {"x": OutputRef("b", "output")}),
    }
    with pytest.raises(PipelineError, match=r"has a cycle: a -> c -> b -> a"):
        PipelineGraph("p", nodes, {})


def test_unknown_upstream_is_named() -> None:
    nodes = {"a": StepNode("a", inc, {"x": OutputRef("ghost", "output")})}
    with pytest.raises(PipelineError, match=r"step 'a' depends on unknown step 'ghost'"):
        PipelineGraph("p", nodes, {})


def test_downstream_lists_consumers_in_insertion_order() -> None:
    nodes = {
        "a": StepNode("a", inc, {"x": Constant(0)}),
        "c": StepNode("c", inc, {"x": OutputRef("a", "output")}),
        "b": StepNode("b", inc, {"x": OutputRef("a", "output")}),
        "d": StepNode("d", inc, {"x": OutputRef("b", "output")}),
    }
    graph = PipelineGraph("p", nodes, {})
    assert graph.downstream("a") == ["c", "b"]
    assert graph.downstream("b") == ["d"]
    assert graph.downstream("d") == []
    graph.downstream("a").append("mutated")  # callers get a copy
    assert graph.downstream("a") == ["c", "b"]
