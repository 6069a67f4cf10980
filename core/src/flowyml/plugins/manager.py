"""The process-wide plugin manager for general (non-component) plugins."""

from __future__ import annotations

import threading

import pluggy

from flowyml.plugins import hookspecs
from flowyml.plugins.loader import iter_general_plugins
from flowyml.plugins.markers import PROJECT_NAME

_pm: pluggy.PluginManager | None = None
_lock = threading.Lock()


def get_plugin_manager() -> pluggy.PluginManager:
    """The manager holding the built-in serializers and every ``flowyml`` entry-point plugin.

    Built on first use (the first artifact stored or loaded), not on import.
    """
    global _pm
    with _lock:
        if _pm is None:
            from flowyml.serialization import builtin

            pm = pluggy.PluginManager(PROJECT_NAME)
            pm.add_hookspecs(hookspecs)
            pm.register(builtin, name="flowyml.builtin-serializers")
            for name, _dist, plugin in iter_general_plugins():
                if not pm.is_registered(plugin) and pm.get_plugin(name) is None:
                    pm.register(plugin, name=name)
            _pm = pm
        return _pm

