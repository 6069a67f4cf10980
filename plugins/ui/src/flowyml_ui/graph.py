"""The pipeline graph laid out on the server: layers by longest path from the sources, drawn as SVG.

No JavaScript layout engine: a run's steps and the artifacts between them
become boxes and curves with coordinates, which the run page's template
draws (every label escaped by Jinja).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import attrs

__all__ = ["Edge", "Layout", "Node", "layout"]

NODE_W, NODE_H = 170, 40
GAP_X, GAP_Y = 70, 22
MARGIN = 16


@attrs.frozen
class Node:
    name: str
    status: str
    layer: int
    x: float
    y: float
    w: float = NODE_W
    h: float = NODE_H


@attrs.frozen
class Edge:
    source: str
    target: str
    label: str
    path: str  # the SVG path's d attribute
    label_x: float
    label_y: float


@attrs.frozen
class Layout:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    width: float
    height: float


def _layers(names: Sequence[str], preds: Mapping[str, set[str]]) -> dict[str, int]:
    """Longest path from a source, for every node (iteratively: a 10,000-step chain needs no deep recursion)."""
    succs: dict[str, list[str]] = {n: [] for n in names}
    indegree = {n: 0 for n in names}
    for n in names:
        for p in preds.get(n, ()):
            if p in succs and p != n:
                succs[p].append(n)
                indegree[n] += 1
    layer = dict.fromkeys(names, 0)
    ready = [n for n in names if indegree[n] == 0]
    while ready:  # a node on a cycle (which no pipeline has) keeps layer 0
        n = ready.pop()
        for s in succs[n]:
            layer[s] = max(layer[s], layer[n] + 1)
            indegree[s] -= 1
            if indegree[s] == 0:
                ready.append(s)
    return layer


def layout(steps: Sequence[tuple[str, str]], edges: Iterable[tuple[str, str, str]]) -> Layout:
    """Lay out ``steps`` ((name, status), in run order) and ``edges`` ((source, target, label)), left to right."""
    names = [name for name, _ in steps]
    status = dict(steps)
    edge_list = [(s, t, label) for s, t, label in edges if s in status and t in status and s != t]
    preds: dict[str, set[str]] = {n: set() for n in names}
    for s, t, _ in edge_list:
        preds[t].add(s)
    layer_of = _layers(names, preds)
    columns: dict[int, list[str]] = {}
    for n in names:
        columns.setdefault(layer_of[n], []).append(n)
    row_of: dict[str, float] = {}
    for col in sorted(columns):
        members = columns[col]
        if col > 0:  # order by the mean row of the predecessors: fewer crossings, one cheap pass
            members.sort(key=lambda n: (sum(row_of[p] for p in preds[n]) / len(preds[n])) if preds[n] else 0.0)
        for i, n in enumerate(members):
            row_of[n] = float(i)
    nodes = {
        n: Node(
            name=n,
            status=status[n],
            layer=layer_of[n],
            x=MARGIN + layer_of[n] * (NODE_W + GAP_X),
            y=MARGIN + row_of[n] * (NODE_H + GAP_Y),
        )
        for n in names
    }
    drawn: list[Edge] = []
    height: float = MARGIN * 2 + max((len(c) for c in columns.values()), default=1) * (NODE_H + GAP_Y) - GAP_Y
    below = 0.0  # how far the edges that skip layers bow under the rows
    for s, t, label in edge_list:
        a, b = nodes[s], nodes[t]
        x1, y1 = a.x + a.w, a.y + a.h / 2
        x2, y2 = b.x, b.y + b.h / 2
        span = b.layer - a.layer
        if span > 1:  # skipping layers: leave from below and come in from below, under the boxes between
            x1, y1, x2, y2 = a.x + a.w / 2, a.y + a.h, b.x + b.w / 2, b.y + b.h
            low = max(y1, y2) + GAP_Y * 0.6 + 8 * min(span, 6)
            below = max(below, low - height + MARGIN)
            path = f"M{x1:.1f},{y1:.1f} C{x1:.1f},{low:.1f} {x2:.1f},{low:.1f} {x2:.1f},{y2:.1f}"
            label_x, label_y = (x1 + x2) / 2, low - 3
        else:
            bend = max(30.0, (x2 - x1) / 2)
            path = f"M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
            label_x, label_y = (x1 + x2) / 2, (y1 + y2) / 2 - 5
        drawn.append(Edge(source=s, target=t, label=label, path=path, label_x=label_x, label_y=label_y))
    width = MARGIN * 2 + (max(layer_of.values(), default=0) + 1) * (NODE_W + GAP_X) - GAP_X
    height += max(0.0, below)
    return Layout(nodes=tuple(nodes[n] for n in names), edges=tuple(drawn), width=width, height=height)
