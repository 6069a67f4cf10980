"""Reading back the event files the tensorboard tracker wrote (the stand-in's readers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from standins.tensorboard_events import read_hparam_sessions, read_scalars


def texts(run_dir: Path) -> dict[str, list[str]]:
    """``{tag: [text, ...]}`` of the text summaries in one run directory."""
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.util import tensor_util

    acc = event_accumulator.EventAccumulator(str(run_dir), size_guidance={event_accumulator.TENSORS: 0})
    acc.Reload()
    out: dict[str, list[str]] = {}
    for tag in acc.Tags().get("tensors", []):
        for event in acc.Tensors(tag):
            value = tensor_util.make_ndarray(event.tensor_proto)
            out.setdefault(tag.removesuffix("/text_summary"), []).extend(v.decode() for v in value.flatten())
    return out


def contract_view(run_dir: Path) -> dict[str, Any]:
    sessions = read_hparam_sessions(run_dir)
    assert len(sessions) == 1 and sessions[0].run_dir == run_dir, "one hparams session, in the run's own directory"
    status = texts(run_dir)["flowyml/status"][-1]
    return {
        "metrics": read_scalars(run_dir),
        "params": dict(sessions[0].hparams),
        "status": status,
    }
