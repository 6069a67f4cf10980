"""FlowyML: declare what an artifact is; the active stack decides where it goes.

    from flowyml import Model, Dataset, Metrics, Parameters, step, pipeline, Pipeline

Importing this package loads no backend, no vendor SDK and no data library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowyml.core import Dataset, Metrics, Model, Parameters, Pipeline, Step, pipeline, step

if TYPE_CHECKING:  # what __getattr__ gives, for type checkers (imported lazily at run time)
    from flowyml.client import Client
    from flowyml.plugins.markers import hookimpl

__version__ = "0.1.0"

__all__ = [
    "Client",
    "Dataset",
    "Metrics",
    "Model",
    "Parameters",
    "Pipeline",
    "Resources",
    "Step",
    "__version__",
    "hookimpl",
    "pipeline",
    "step",
]


def __getattr__(name: str) -> Any:
    # pluggy (and the importlib.metadata it pulls in) is only needed by plugin code.
    if name in ("hookimpl", "hookspec"):
        from flowyml.plugins import markers

        return getattr(markers, name)
    # The client reads the metadata store; it is imported when first used.
    if name == "Client":
        from flowyml.client import Client

        return Client
    if name == "Resources":
        from flowyml.core.settings import Resources

        return Resources
    if name == "models":
        import importlib

        return importlib.import_module("flowyml.models")
    raise AttributeError(f"module 'flowyml' has no attribute {name!r}")
