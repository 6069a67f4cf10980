"""Options of the three Vertex AI components, as users write them in ``flowyml.yaml``.

Everything is optional: project and location default to the environment
(``GOOGLE_CLOUD_PROJECT``, ``gcloud config``, ``aiplatform.init``) and
credentials to Google's standard chain.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class VertexConnection:
    """Where and as whom to call Vertex AI (shared by every Vertex component)."""

    #: Google Cloud project id (default: the environment's).
    project: str | None = None
    #: Vertex AI region, e.g. ``us-central1`` (default: the SDK's, ``us-central1``).
    location: str | None = None
    #: Service-account key file to call Vertex with (default: Google's credential chain).
    credentials_file: str | None = None
    #: API endpoint override (a regional or private endpoint; ``http://127.0.0.1:PORT`` for a local fake).
    api_endpoint: str | None = None


@attrs.frozen
class VertexRegistryOptions(VertexConnection):
    """``model_registry: {type: vertex_model_registry, ...}``."""

    #: Serving container used for every model (overrides the per-framework choice).
    serving_container_image: str | None = None
    #: Serving containers per framework, merged over the built-in table (``sklearn: us-docker.pkg.dev/...``).
    serving_container_images: dict[str, str] = attrs.field(factory=dict)
    #: Extra labels put on every uploaded model version.
    labels: dict[str, str] = attrs.field(factory=dict)
    #: Seconds to wait for an upload to finish.
    timeout: float = 1800.0


@attrs.frozen
class VertexDeployerOptions(VertexConnection):
    """``model_deployer: {type: vertex_endpoint, ...}``; ``serving_config`` keys of the same names win."""

    machine_type: str = "n1-standard-2"
    min_replica_count: int = 1
    max_replica_count: int = 1
    #: e.g. ``NVIDIA_TESLA_T4`` (with ``accelerator_count``).
    accelerator_type: str | None = None
    accelerator_count: int = 0
    #: Service account the served model runs as.
    service_account: str | None = None
    #: Labels put on endpoints FlowyML creates.
    labels: dict[str, str] = attrs.field(factory=dict)
    #: Seconds to wait for a deployment (Vertex usually needs 5-20 minutes).
    timeout: float = 3600.0


@attrs.frozen
class VertexOrchestratorOptions(VertexConnection):
    """``orchestrator: {type: vertex_ai, ...}``."""

    #: Container image with your code, FlowyML and the stack's plugins installed (required to run).
    image: str | None = None
    #: Service account the pipeline's steps run as.
    service_account: str | None = None
    #: Where Vertex keeps pipeline outputs (default: ``vertex-pipelines/`` in the stack's artifact store).
    pipeline_root: str | None = None
    #: Machine resources per step, e.g. ``{cpu_limit: "4", memory_limit: "16G"}``.
    cpu_limit: str | None = None
    memory_limit: str | None = None
    #: Extra environment for every step container.
    environment: dict[str, str] = attrs.field(factory=dict)
    #: Labels on the PipelineJob.
    labels: dict[str, str] = attrs.field(factory=dict)
    #: VPC network to peer with (``projects/NUMBER/global/networks/NAME``).
    network: str | None = None
    #: Wait for the job to end (False: submit and return; results are collected by a later run).
    synchronous: bool = True
    #: Seconds to wait for the whole job.
    timeout: float = 24 * 3600.0
    #: Seconds between status polls.
    poll_interval: float = 10.0
