"""FlowyML backends on MLflow: the ``mlflow`` experiment tracker and the ``mlflow_model_registry``.

Importing this package (or the entry-point modules ``tracker`` and ``registry``)
does not import mlflow: the client is imported the first time a hook needs it.
"""

__version__ = "0.1.0"
#: The flowyml plugin API this package is written for (checked when a stack loads it).
FLOWYML_PLUGIN_API = "0.1"
