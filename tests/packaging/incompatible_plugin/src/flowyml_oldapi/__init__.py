"""A plugin written for flowyml 0.2 (test fixture)."""

FLOWYML_PLUGIN_API = "0.2"
