"""Which stack a run uses.

Precedence, highest first: an explicit ``run(stack=...)`` / ``--stack``, the
innermost :func:`use_stack` block, ``$FLOWYML_STACK``, ``active_stack:`` in
flowyml.yaml, and the embedded ``local`` stack. The choice is made when a run
starts, not when a pipeline is built.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

STACK_ENV = "FLOWYML_STACK"

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("flowyml_stack", default=None)


@contextmanager
def use_stack(name: str) -> Iterator[str]:
    """Run pipelines inside the block on stack ``name``.

    Nestable; the outer stack is restored on exit, and an exception raised in
    the block passes through unchanged. Built on :mod:`contextvars`, so each
    thread and asyncio task sees its own choice. An unknown name fails at
    once, listing the stacks flowyml.yaml defines.
    """
    from flowyml.config.loader import load_project

    load_project().stack(name)  # fail early on a name that does not exist
    token = _current.set(name)
    try:
        yield name
    finally:
        _current.reset(token)


def current_stack_override() -> str | None:
    """The stack named by the innermost active :func:`use_stack` block, if any."""
    return _current.get()


class StackChoice(NamedTuple):
    name: str
    reason: str  # "flag", "use_stack", "env", "file", "default"


def choose_stack(explicit: str | None, active_in_file: str | None, default: str) -> StackChoice:
    if explicit:
        return StackChoice(explicit, "flag")
    ctx = _current.get()
    if ctx:
        return StackChoice(ctx, "use_stack")
    env = os.environ.get(STACK_ENV)
    if env:
        return StackChoice(env, "env")
    if active_in_file:
        return StackChoice(active_in_file, "file")
    return StackChoice(default, "default")
