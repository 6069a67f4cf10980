"""FlowyML's built-in backend: every component kind, with type ``local``."""

__version__ = "0.1.0"
#: The flowyml plugin API this package is written for (checked when a stack loads it).
FLOWYML_PLUGIN_API = "0.1"
