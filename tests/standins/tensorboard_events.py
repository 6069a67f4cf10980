"""Readers for TensorBoard event files (as written by tensorboardX or TensorFlow).

* :func:`read_scalars` — ``{tag: [(step, value), ...]}`` for a log directory.
* :func:`read_hparams` — the hyper-parameters recorded by ``add_hparams``.
* :func:`read_scalars_by_run` / :func:`read_hparam_sessions` — the same per run
  directory, for tests that need to tell them apart.

tensorboardX ``SummaryWriter.add_hparams`` writes into a *subdirectory* of the
writer's logdir (named after ``time.time()`` unless ``run_name`` is given), so the
readers walk the whole tree below ``logdir`` by default.

Uses ``tensorboard``'s ``EventAccumulator`` with unlimited scalar/tensor size
guidance and no purging of "orphaned" steps, so every written point comes back.
The ``tensorboard`` import happens inside the functions only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EVENT_FILE_GLOB = "events.out.tfevents.*"
HPARAMS_PLUGIN = "hparams"
SCALARS_PLUGIN = "scalars"
SESSION_START_TAG = "_hparams_/session_start_info"

Scalars = dict[str, list[tuple[int, float]]]


@dataclass
class HParamSession:
    """One ``add_hparams`` call: its run directory, hyper-parameters and metrics."""

    run_dir: Path
    hparams: dict[str, Any] = field(default_factory=dict)
    #: Last value of each scalar in the session's run directory (e.g. ``hparam/acc``).
    metrics: dict[str, float] = field(default_factory=dict)


def event_run_dirs(logdir: Path | str, recursive: bool = True) -> list[Path]:
    """Directories at or below ``logdir`` that hold event files, sorted."""
    root = Path(logdir)
    pattern = f"**/{EVENT_FILE_GLOB}" if recursive else EVENT_FILE_GLOB
    return sorted({path.parent for path in root.glob(pattern)})


def _load(run_dir: Path) -> Any:
    """A reloaded ``EventAccumulator`` for one run directory."""
    from tensorboard.backend.event_processing import event_accumulator

    accumulator = event_accumulator.EventAccumulator(
        str(run_dir),
        size_guidance={event_accumulator.SCALARS: 0, event_accumulator.TENSORS: 0},
        purge_orphaned_data=False,
    )
    accumulator.Reload()
    return accumulator


def _plugin_tags(accumulator: Any, plugin: str) -> dict[str, bytes]:
    """``{tag: plugin content}`` for ``plugin``, empty if it never wrote."""
    try:
        return accumulator.PluginTagToContent(plugin)
    except KeyError:
        return {}


def _run_scalars(accumulator: Any) -> Scalars:
    """Scalars of one run: classic ``simple_value`` ones and TF2 scalar tensors."""
    result: Scalars = {
        tag: [(event.step, float(event.value)) for event in accumulator.Scalars(tag)]
        for tag in accumulator.Tags().get("scalars", [])
    }
    scalar_tensor_tags = set(_plugin_tags(accumulator, SCALARS_PLUGIN))
    tensor_tags = scalar_tensor_tags & set(accumulator.Tags().get("tensors", []))
    if tensor_tags:
        from tensorboard.util import tensor_util

        for tag in sorted(tensor_tags):
            result.setdefault(tag, []).extend(
                (event.step, float(tensor_util.make_ndarray(event.tensor_proto).item()))
                for event in accumulator.Tensors(tag)
            )
    return result


def read_scalars_by_run(logdir: Path | str, recursive: bool = True) -> dict[str, Scalars]:
    """``{run dir relative to logdir ("." for logdir itself): scalars}``."""
    root = Path(logdir)
    return {
        str(run_dir.relative_to(root)): _run_scalars(_load(run_dir))
        for run_dir in event_run_dirs(root, recursive)
    }


def read_scalars(logdir: Path | str, recursive: bool = True) -> Scalars:
    """``{tag: [(step, value), ...]}`` for every scalar written under ``logdir``.

    With ``recursive`` (the default) run subdirectories such as the one
    ``add_hparams`` creates are merged in; points of a tag found in several run
    directories are concatenated and sorted by step. ``recursive=False`` reads
    only the event files directly in ``logdir``.
    """
    merged: Scalars = {}
    for scalars in read_scalars_by_run(logdir, recursive).values():
        for tag, points in scalars.items():
            merged.setdefault(tag, []).extend(points)
    return {tag: sorted(points, key=lambda point: point[0]) for tag, points in merged.items()}


def read_hparam_sessions(logdir: Path | str) -> list[HParamSession]:
    """Every hparams session (``add_hparams`` call) below ``logdir``, sorted by run dir."""
    from google.protobuf import json_format
    from tensorboard.plugins.hparams import plugin_data_pb2

    sessions: list[HParamSession] = []
    for run_dir in event_run_dirs(logdir):
        accumulator = _load(run_dir)
        content = _plugin_tags(accumulator, HPARAMS_PLUGIN).get(SESSION_START_TAG)
        if content is None:
            continue
        data = plugin_data_pb2.HParamsPluginData.FromString(content)
        hparams = {
            name: json_format.MessageToDict(value)
            for name, value in data.session_start_info.hparams.items()
        }
        metrics = {
            tag: points[-1][1] for tag, points in _run_scalars(accumulator).items() if points
        }
        sessions.append(HParamSession(run_dir=run_dir, hparams=hparams, metrics=metrics))
    return sessions


def read_hparams(logdir: Path | str) -> dict[str, Any]:
    """Hyper-parameters of the last ``add_hparams`` session below ``logdir``.

    Values come back as TensorBoard stores them: numbers as ``float`` (tensorboardX
    converts ints), strings and bools as such. Returns ``{}`` if none was written.
    Use :func:`read_hparam_sessions` for several sessions or their metrics.
    """
    sessions = read_hparam_sessions(logdir)
    return dict(sessions[-1].hparams) if sessions else {}
