"""The server-side layout of the pipeline graph."""

from __future__ import annotations

from itertools import pairwise

from flowyml_ui.graph import NODE_H, NODE_W, layout


def test_layers_are_the_longest_path_from_the_sources() -> None:
    steps = [(n, "completed") for n in ("load", "params", "prep", "train", "evaluate")]
    edges = [("load", "prep", "raw"), ("prep", "train", "data"), ("params", "train", "p"), ("train", "evaluate", "m"), ("prep", "evaluate", "d")]
    drawn = layout(steps, edges)
    layer = {n.name: n.layer for n in drawn.nodes}
    assert layer == {"load": 0, "params": 0, "prep": 1, "train": 2, "evaluate": 3}
    assert {(e.source, e.target) for e in drawn.edges} == {(s, t) for s, t, _ in edges}
    xs = {n.name: n.x for n in drawn.nodes}
    assert xs["load"] < xs["prep"] < xs["train"] < xs["evaluate"]
    # no two boxes overlap
    boxes = [(n.x, n.y) for n in drawn.nodes]
    assert len(set(boxes)) == len(boxes)
    assert all(n.x + NODE_W <= drawn.width and n.y + NODE_H <= drawn.height for n in drawn.nodes)


def test_a_long_chain_lays_out_without_recursion_and_edges_to_unknown_steps_are_dropped() -> None:
    names = [f"s{i}" for i in range(3000)]
    drawn = layout([(n, "completed") for n in names], [(a, b, "x") for a, b in pairwise(names)] + [("s0", "ghost", "x")])
    assert [n.layer for n in drawn.nodes] == list(range(3000))
    assert len(drawn.edges) == 2999
