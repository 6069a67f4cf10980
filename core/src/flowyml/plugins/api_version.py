"""The plugin API version: which plugins this core can load.

A plugin declares the plugin API it is written for in its top-level package::

    # flowyml_vertex/__init__.py
    FLOWYML_PLUGIN_API = "0.1"

The plugin API version is the core's minor series (``"0.1"`` for every
flowyml 0.1.x): hookspecs, component base classes and the values they exchange
may change between minor versions, never within one. The loader imports a
plugin's top-level package (nothing else) and checks the declaration before it
imports the backend's module, so a plugin built for another core is refused
when its stack is built, with both versions and the fix, instead of failing
somewhere inside a run. A package that declares nothing (a plugin written
before the declaration existed, or a quick in-house one) is loaded unchecked;
every first-party plugin declares it (tests/packaging/test_plugin_api.py).
"""

from __future__ import annotations

from types import ModuleType

from flowyml.errors import PluginIncompatibleError

#: The plugin API this core provides.
PLUGIN_API = "0.1"
#: The module attribute a plugin's top-level package sets to the plugin API it targets.
ATTRIBUTE = "FLOWYML_PLUGIN_API"


def check_plugin_api(package: ModuleType, distribution: str, version: str) -> None:
    """Refuse ``package`` (a plugin's top-level package) if it declares a plugin API other than :data:`PLUGIN_API`."""
    import flowyml

    declared = getattr(package, ATTRIBUTE, None)
    if declared is None or declared == PLUGIN_API:
        return
    raise PluginIncompatibleError(
        f"plugin {distribution} {version} targets plugin API {declared!r}, but this is "
        f"flowyml {flowyml.__version__} (plugin API {PLUGIN_API})",
        hint=f"install a release of {distribution} built for flowyml {PLUGIN_API}.x (one that declares "
        f"{ATTRIBUTE} = {PLUGIN_API!r}), or use the flowyml {declared}.x it was built for; "
        f"or disable it with FLOWYML_DISABLE_PLUGINS={distribution}",
    )
