"""Values passed to and returned from component hooks.

They are plain attrs classes so that backends can build and compare them, and
the core can record them as JSON.
"""

from __future__ import annotations

from typing import Any

import attrs

#: Approval states a registered model version can be in.
MODEL_STATUSES = ("registered", "pending_approval", "approved", "rejected", "archived")


@attrs.frozen
class RunInfo:
    """The pipeline run a tracker or orchestrator works for."""

    run_id: str
    pipeline_name: str
    stack_name: str
    project_dir: str
    tags: dict[str, str] = attrs.field(factory=dict)


@attrs.frozen
class ModelVersion:
    """A model version as a registry keeps it.

    ``uri`` is where the artifact store put the model; ``registry_id`` is the
    backend's own identifier (an ARN, a resource name) once registered.
    """

    name: str
    version: str
    uri: str
    framework: str | None = None
    status: str = "registered"
    content_hash: str | None = None
    run_id: str | None = None
    pipeline_name: str | None = None
    step_name: str | None = None
    metrics: dict[str, Any] = attrs.field(factory=dict)
    metadata: dict[str, Any] = attrs.field(factory=dict)
    serving_config: dict[str, Any] | None = None
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    registry_id: str | None = None
    created_at: str | None = None

    def evolve(self, **changes: Any) -> ModelVersion:
        return attrs.evolve(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class Deployment:
    """A model version served behind an endpoint."""

    endpoint_name: str
    model_name: str
    model_version: str
    status: str = "deployed"
    url: str | None = None
    details: dict[str, Any] = attrs.field(factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)
