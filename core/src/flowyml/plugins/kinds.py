"""The component kinds a stack is made of, and their entry-point groups."""

from __future__ import annotations

import enum


class Kind(enum.StrEnum):
    """A kind of stack component. The value is the key users write in a stack."""

    ORCHESTRATOR = "orchestrator"
    ARTIFACT_STORE = "artifact_store"
    MODEL_REGISTRY = "model_registry"
    MODEL_DEPLOYER = "model_deployer"
    EXPERIMENT_TRACKER = "experiment_tracker"

    @property
    def entry_point_group(self) -> str:
        """The entry-point group where backends of this kind register, e.g. ``flowyml.artifact_stores``."""
        return _GROUPS[self]

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


_GROUPS = {
    Kind.ORCHESTRATOR: "flowyml.orchestrators",
    Kind.ARTIFACT_STORE: "flowyml.artifact_stores",
    Kind.MODEL_REGISTRY: "flowyml.model_registries",
    Kind.MODEL_DEPLOYER: "flowyml.model_deployers",
    Kind.EXPERIMENT_TRACKER: "flowyml.experiment_trackers",
}

#: Entry-point group of general plugins (serializers, observers), loaded on first use.
GENERAL_GROUP = "flowyml"

#: First-party types and the distribution that provides each, for install hints.
FIRST_PARTY: dict[tuple[Kind, str], str] = {
    (Kind.ORCHESTRATOR, "local"): "flowyml-local",
    (Kind.ARTIFACT_STORE, "local"): "flowyml-local",
    (Kind.MODEL_REGISTRY, "local"): "flowyml-local",
    (Kind.MODEL_DEPLOYER, "local"): "flowyml-local",
    (Kind.EXPERIMENT_TRACKER, "local"): "flowyml-local",
    (Kind.ARTIFACT_STORE, "gcs"): "flowyml-gcs",
    (Kind.ARTIFACT_STORE, "s3"): "flowyml-s3",
    (Kind.ORCHESTRATOR, "vertex_ai"): "flowyml-vertex",
    (Kind.MODEL_REGISTRY, "vertex_model_registry"): "flowyml-vertex",
    (Kind.MODEL_DEPLOYER, "vertex_endpoint"): "flowyml-vertex",
    (Kind.ORCHESTRATOR, "sagemaker"): "flowyml-sagemaker",
    (Kind.MODEL_REGISTRY, "sagemaker_model_registry"): "flowyml-sagemaker",
    (Kind.MODEL_DEPLOYER, "sagemaker_endpoint"): "flowyml-sagemaker",
    (Kind.EXPERIMENT_TRACKER, "mlflow"): "flowyml-mlflow",
    (Kind.MODEL_REGISTRY, "mlflow_model_registry"): "flowyml-mlflow",
    (Kind.EXPERIMENT_TRACKER, "wandb"): "flowyml-wandb",
    (Kind.EXPERIMENT_TRACKER, "tensorboard"): "flowyml-tensorboard",
}
