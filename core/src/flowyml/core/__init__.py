"""The core SDK a pipeline author imports."""

from flowyml.core.artifacts import Dataset, Metrics, Model, Parameters
from flowyml.core.pipeline import Pipeline, pipeline
from flowyml.core.step import Step, step

__all__ = ["Dataset", "Metrics", "Model", "Parameters", "Pipeline", "Step", "pipeline", "step"]
