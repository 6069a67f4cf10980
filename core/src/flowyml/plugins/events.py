"""What run-event hooks receive: one attrs class per event.

General plugins (entry-point group ``flowyml``) observe runs by implementing
``flowyml_run_started``, ``flowyml_step_finished``, ``flowyml_artifact_stored``,
``flowyml_model_decided`` and ``flowyml_run_finished``; each hook gets one of
these as ``event``. The same events arrive for local, cached and remote runs
(a remote run's steps and artifacts when its records are collected). Every
value is JSON-ready (``attrs.asdict(event)`` can be written as is).
"""

from __future__ import annotations

from typing import Any

import attrs


@attrs.frozen
class RunStarted:
    """A run began: its steps are about to be handed to the orchestrator."""

    run_id: str
    pipeline_name: str
    stack_name: str
    project_dir: str
    #: Step names in a dependency order.
    steps: tuple[str, ...]
    params: dict[str, Any] = attrs.field(factory=dict)
    started_at: float = 0.0


@attrs.frozen
class ArtifactStored:
    """An output of a step is in the artifact store and recorded."""

    run_id: str
    step_name: str
    output_name: str
    artifact_id: str
    #: ``Model``, ``Dataset``, ``Metrics``, ``Parameters`` or ``Value``.
    artifact_type: str
    uri: str
    content_hash: str
    size: int | None
    #: ``stored`` (written by this run here), ``cached`` (reused from run ``cached_from``) or ``remote`` (written by a remote step).
    source: str
    cached_from: str | None = None


@attrs.frozen
class StepFinished:
    """A step has its final status: ``completed``, ``cached``, ``failed`` or ``skipped``."""

    run_id: str
    step_name: str
    status: str
    started_at: float | None = None
    ended_at: float | None = None
    error: str | None = None
    #: Output name -> artifact id.
    outputs: dict[str, str] = attrs.field(factory=dict)


@attrs.frozen
class ModelDecided:
    """The run decided what happens to one model: registered or not, deployed or not, and why."""

    run_id: str
    step_name: str
    artifact_id: str
    model_name: str
    #: The registered version ("" when registration failed).
    model_version: str
    registered: bool
    deploy: bool
    reason: str
    #: The registry's status of the version (``registered``, ``pending_approval``, ``approved``), when registered.
    status: str | None = None
    #: The endpoint the model was deployed to (None when not deployed).
    endpoint: str | None = None
    deployed: bool = False


@attrs.frozen
class RunFinished:
    """A run ended (also when it stopped on an unexpected error)."""

    run_id: str
    pipeline_name: str
    stack_name: str
    #: ``completed`` or ``failed``.
    status: str
    error: str | None = None
    #: Step name -> final status, in a dependency order.
    steps: dict[str, str] = attrs.field(factory=dict)
    started_at: float = 0.0
    ended_at: float = 0.0
