"""Options of the ``tensorboard`` experiment tracker, as users write them in flowyml.yaml."""

from __future__ import annotations

import attrs


@attrs.frozen
class TensorboardTrackerOptions:
    """``experiment_tracker: {type: tensorboard, ...}``."""

    #: Root log directory (``tensorboard --logdir`` it); relative to flowyml.yaml's folder.
    #: Each run writes to ``<log_dir>/<pipeline>/<run id>``.
    log_dir: str = "./tensorboard"
    #: Tag scalars ``<step name>/<key>`` (one TensorBoard section per pipeline step) instead of ``<key>``.
    prefix_step_name: bool = False
    #: Seconds between flushes of the event file while a run is going (it is always flushed at the end).
    flush_secs: int = 10
