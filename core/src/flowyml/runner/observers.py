"""Telling general plugins what a run does: the run-event hooks, each observer on its own.

An observer that raises is logged with its plugin's name and never fails the
run (nor keeps the event from the other observers). Calls are serialized, so
observers need not be thread-safe even when steps run concurrently.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flowyml.plugins.events import (
    ArtifactStored,
    ModelDecided,
    RunFinished,
    RunStarted,
    StepFinished,
)

log = logging.getLogger("flowyml.events")


class Observers:
    """The run-event hooks of the process-wide plugin manager, called safely."""

    def __init__(self) -> None:
        from flowyml.plugins.manager import get_plugin_manager

        self._pm = get_plugin_manager()
        self._lock = threading.Lock()
        self._callers: dict[str, list[tuple[str, Any]]] = {}

    def _observers(self, hook: str) -> list[tuple[str, Any]]:
        callers = self._callers.get(hook)
        if callers is None:
            plugins = [impl.plugin for impl in getattr(self._pm.hook, hook).get_hookimpls()]
            callers = []
            for plugin in plugins:
                others = [p for p in self._pm.get_plugins() if p is not plugin]
                callers.append((self._pm.get_name(plugin) or repr(plugin), self._pm.subset_hook_caller(hook, remove_plugins=others)))
            self._callers[hook] = callers
        return callers

    def _emit(self, hook: str, event: Any) -> None:
        with self._lock:
            for name, caller in self._observers(hook):
                try:
                    caller(event=event)
                except Exception as exc:  # an observer never fails the run
                    log.warning("plugin %s failed in %s (ignored): %s: %s", name, hook, type(exc).__name__, exc)

    def run_started(self, event: RunStarted) -> None:
        self._emit("flowyml_run_started", event)

    def artifact_stored(self, event: ArtifactStored) -> None:
        self._emit("flowyml_artifact_stored", event)

    def step_finished(self, event: StepFinished) -> None:
        self._emit("flowyml_step_finished", event)

    def model_decided(self, event: ModelDecided) -> None:
        self._emit("flowyml_model_decided", event)

    def run_finished(self, event: RunFinished) -> None:
        self._emit("flowyml_run_finished", event)


class NoObservers(Observers):
    """For the container side of a remote step: its client reports the events when it collects the records."""

    def __init__(self) -> None:  # no plugin manager needed
        self._lock = threading.Lock()
        self._callers = {}

    def _emit(self, hook: str, event: Any) -> None:
        return None
