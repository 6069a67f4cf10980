"""Recording step calls while a ``@pipeline`` function runs, to build its graph."""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowyml.core.graph import GraphBuilder

_builder: contextvars.ContextVar[GraphBuilder | None] = contextvars.ContextVar("flowyml_builder", default=None)


def current_builder() -> GraphBuilder | None:
    return _builder.get()


def set_builder(builder: GraphBuilder | None) -> Any:
    return _builder.set(builder)


def reset_builder(token: Any) -> None:
    _builder.reset(token)
