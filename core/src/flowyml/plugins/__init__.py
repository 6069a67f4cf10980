"""The plugin system: hookspecs, markers, backend loading, stack selection.

``from flowyml.plugins import use_stack`` is what pipeline authors use;
plugin authors use ``flowyml.hookimpl`` and :mod:`flowyml.plugins.hookspecs`.
"""

from __future__ import annotations

from typing import Any

from flowyml.stacks.selection import use_stack

__all__ = ["Component", "get_plugin_manager", "hookimpl", "hookspec", "use_stack"]


def __getattr__(name: str) -> Any:
    if name in ("hookimpl", "hookspec"):
        from flowyml.plugins import markers

        return getattr(markers, name)
    if name == "Component":
        from flowyml.plugins.component import Component

        return Component
    if name == "get_plugin_manager":
        from flowyml.plugins.manager import get_plugin_manager

        return get_plugin_manager
    raise AttributeError(f"module 'flowyml.plugins' has no attribute {name!r}")
