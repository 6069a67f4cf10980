"""Options of the ``wandb`` experiment tracker, as users write them in flowyml.yaml."""

from __future__ import annotations

import attrs

MODES = ("online", "offline", "disabled")


@attrs.frozen
class WandbTrackerOptions:
    """``experiment_tracker: {type: wandb, ...}``."""

    #: W&B project; empty: the pipeline's name.
    project: str | None = None
    #: W&B entity (user or team); empty: your default entity (WANDB_ENTITY).
    entity: str | None = None
    #: ``online``, ``offline`` (sync later with ``wandb sync``) or ``disabled``; empty: WANDB_MODE, else online.
    mode: str | None = None
    #: Folder under which wandb writes its ``wandb/`` run folders; relative to flowyml.yaml's folder.
    dir: str | None = None
    #: W&B run group; empty: the pipeline's name (the runs of one pipeline are grouped).
    group: str | None = None
    #: Log metrics as ``<step name>/<key>`` (one W&B panel section per pipeline step) instead of ``<key>``.
    prefix_step_name: bool = False
    #: Extra tags for every run (FlowyML adds ``pipeline:<name>`` and ``stack:<name>``).
    tags: list[str] = attrs.field(factory=list)
