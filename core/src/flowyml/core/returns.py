"""What a step's return annotation promises, checked against what the step returned."""

from __future__ import annotations

from typing import Any

from flowyml.core.artifacts import ARTIFACT_TYPES, Artifact
from flowyml.errors import PipelineError


def artifact_class(annotation: Any) -> type[Artifact] | None:
    """The artifact type an annotation names (``Model``, ``"Model"``, ``"flowyml.Model"``), or None."""
    if isinstance(annotation, type) and issubclass(annotation, Artifact):
        return annotation
    if isinstance(annotation, str):
        return ARTIFACT_TYPES.get(annotation.rsplit(".", 1)[-1])
    return None


def check_return(step: str, output: str | None, value: Any, annotation: Any) -> None:
    """Refuse None or another artifact type from a step annotated ``-> Model`` (or Dataset, Metrics, Parameters).

    A plain value is fine: it is wrapped in the annotated type (and checked by it).
    """
    cls = artifact_class(annotation)
    if cls is None or isinstance(value, cls):
        return
    if value is None or isinstance(value, Artifact):
        got = "None" if value is None else type(value).__name__
        which = f" (output {output!r})" if output else ""
        raise PipelineError(
            f"step {step!r} is annotated -> {cls.__name__} but returned {got}{which}",
            hint=f"return a {cls.__name__} (or a value to wrap in one), or change the step's return annotation",
        )
