"""Planning routes from a pipeline's declared output types, without running it."""

from __future__ import annotations

import typing
from typing import Any

from flowyml.config.schema import StackConfig
from flowyml.core.artifacts import Artifact
from flowyml.core.graph import PipelineGraph
from flowyml.stacks.describe import describe_rule


def declared_type(annotation: Any) -> str | None:
    """The routing type a return annotation declares, or None when it says nothing."""
    if annotation is None or annotation is type(None):
        return None
    if isinstance(annotation, type) and issubclass(annotation, Artifact):
        return annotation.type_name
    if isinstance(annotation, str):
        last = annotation.rsplit(".", 1)[-1]
        return last if last in ("Model", "Dataset", "Metrics", "Parameters") else "Value"
    return "Value"


def plan_routes(graph: PipelineGraph, stack: StackConfig) -> list[dict[str, str]]:
    rows = []
    for name in graph.order:
        node = graph.nodes[name]
        annotation = node.step.type_hints.get("return")
        outputs = node.step.output_names
        per_output: list[Any] = [annotation] * len(outputs)
        if len(outputs) > 1 and typing.get_origin(annotation) is tuple:
            per_output = list(typing.get_args(annotation)) + [None] * len(outputs)
        for out, ann in zip(outputs, per_output, strict=False):
            kind = declared_type(ann)
            rule_type = kind or "Value"
            described = describe_rule(stack, rule_type, stack.rule_for(rule_type))
            described["store"] = described["store"].replace("{output}", out)
            rows.append({"step": name, "output": out, **described, "type": kind or "Value (unannotated)"})
    return rows
