"""FlowyML backends for Vertex AI."""

#: The flowyml plugin API this package is written for (checked when a stack loads it).
FLOWYML_PLUGIN_API = "0.1"
