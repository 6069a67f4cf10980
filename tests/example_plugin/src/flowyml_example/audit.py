"""An audit log of every run: one JSON line per run event, in the file ``$FLOWYML_AUDIT_LOG``.

A general plugin (entry-point group ``flowyml``) observing runs through the
run-event hooks. Nothing is written unless ``FLOWYML_AUDIT_LOG`` is set.
"""

from __future__ import annotations

import json
import os
from typing import Any

import attrs

import flowyml
from flowyml.plugins.events import (
    ArtifactStored,
    ModelDecided,
    RunFinished,
    RunStarted,
    StepFinished,
)

AUDIT_ENV = "FLOWYML_AUDIT_LOG"


def _write(kind: str, event: Any) -> None:
    path = os.environ.get(AUDIT_ENV)
    if not path:
        return
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"event": kind, **attrs.asdict(event)}, default=str) + "\n")


@flowyml.hookimpl
def flowyml_run_started(event: RunStarted) -> None:
    _write("run_started", event)


@flowyml.hookimpl
def flowyml_artifact_stored(event: ArtifactStored) -> None:
    _write("artifact_stored", event)


@flowyml.hookimpl
def flowyml_step_finished(event: StepFinished) -> None:
    _write("step_finished", event)


@flowyml.hookimpl
def flowyml_model_decided(event: ModelDecided) -> None:
    _write("model_decided", event)


@flowyml.hookimpl
def flowyml_run_finished(event: RunFinished) -> None:
    _write("run_finished", event)
