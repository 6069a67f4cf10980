"""Example FlowyML plugin."""

from flowyml_example.point import Point

#: The flowyml plugin API this plugin is written for: checked before its backends are imported.
FLOWYML_PLUGIN_API = "0.1"

__all__ = ["FLOWYML_PLUGIN_API", "Point"]
