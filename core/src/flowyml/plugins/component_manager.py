"""The plugin manager a stack registers its components with.

pluggy finds a plugin's hook implementations by looking up every attribute
name of the object it registers (``dir()``, then a static lookup of each). A
stack builds new instances of the same few component classes at every run, so
that search was most of a small pipeline's run time (about 6 of 16 ms for two
components). :class:`ComponentPluginManager` does the search once per class
and, for every later instance, looks up only the names that carry a
``@flowyml.hookimpl`` on the class, plus any attribute set on the instance
itself. The hook specifications of a module (``flowyml.plugins.hookspecs``,
added to every stack's manager) are likewise read once per module. What is
registered is exactly what pluggy's own search finds.
"""

from __future__ import annotations

import weakref
from types import ModuleType
from typing import Any

import pluggy

_IMPL_NAMES: weakref.WeakKeyDictionary[type, frozenset[str]] = weakref.WeakKeyDictionary()
_SPEC_OPTS: weakref.WeakKeyDictionary[ModuleType, dict[str, Any]] = weakref.WeakKeyDictionary()


class ComponentPluginManager(pluggy.PluginManager):
    """A :class:`pluggy.PluginManager` that remembers, per class, which attributes are hook implementations."""

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> Any:
        if isinstance(plugin, ModuleType | type) or name in getattr(plugin, "__dict__", ()):
            return super().parse_hookimpl_opts(plugin, name)
        cls = type(plugin)
        names = _IMPL_NAMES.get(cls)
        if names is None:
            search = super().parse_hookimpl_opts
            names = frozenset(attr for attr in dir(cls) if search(cls, attr) is not None)
            _IMPL_NAMES[cls] = names
        return super().parse_hookimpl_opts(plugin, name) if name in names else None

    def parse_hookspec_opts(self, module_or_class: Any, name: str) -> Any:
        if not isinstance(module_or_class, ModuleType):
            return super().parse_hookspec_opts(module_or_class, name)
        known = _SPEC_OPTS.setdefault(module_or_class, {})
        if name not in known:
            known[name] = super().parse_hookspec_opts(module_or_class, name)
        opts = known[name]
        return None if opts is None else dict(opts)  # each manager gets its own copy
