"""A base for experiment trackers that keep one session per pipeline run.

Subclass :class:`SessionTracker`, set ``Options``, and implement
:meth:`SessionTracker.new_session`, which returns an object with ``start()``,
``log_metrics(...)``, ``log_params(...)``, ``end(status)`` and optionally
``abandon()``. The tracker hooks are implemented here once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from flowyml.errors import TrackerError
from flowyml.plugins.component import Component
from flowyml.plugins.markers import hookimpl
from flowyml.plugins.types import RunInfo


class TrackerSession(Protocol):
    """The tool's run for one pipeline run."""

    def start(self) -> str | None:
        """Open the run; return where it can be seen (a URL or a local folder), or None."""
        ...

    def log_metrics(self, metrics: Mapping[str, float], step: int | None, metadata: Mapping[str, Any], step_name: str) -> None: ...

    def log_params(self, params: Mapping[str, Any], step_name: str) -> None: ...

    def end(self, status: str) -> None: ...


class SessionTracker(Component):
    """Implements the tracker hooks by delegating to a per-run :class:`TrackerSession`."""

    kind = "experiment_tracker"

    def __init__(self, options: Any, context: Any) -> None:
        super().__init__(options, context)
        self.session: Any = None

    def new_session(self, run: RunInfo) -> TrackerSession:
        """Create (not start) the session for ``run``. Import the vendor library here."""
        raise NotImplementedError

    def _open(self) -> Any:
        if self.session is None:
            raise TrackerError(
                f"the {self.type} tracker was asked to log before its run was started",
                hint="trackers are driven by the run: log through Metrics/Parameters outputs routed with log_to_tracker",
            )
        return self.session

    @hookimpl
    def flowyml_tracker_start_run(self, run: RunInfo) -> str | None:
        session = self.new_session(run)
        where = session.start()
        self.session = session
        return where

    @hookimpl
    def flowyml_tracker_log_metrics(self, metrics: Mapping[str, float], step: int | None, metadata: Mapping[str, Any], step_name: str) -> None:
        self._open().log_metrics(metrics, step, metadata, step_name)

    @hookimpl
    def flowyml_tracker_log_params(self, params: Mapping[str, Any], step_name: str) -> None:
        self._open().log_params(params, step_name)

    @hookimpl
    def flowyml_tracker_end_run(self, status: str) -> None:
        self._open().end(status)
        self.session = None

    def close(self) -> None:
        """A session the core never ended (an interrupted run) is abandoned, if the session can say so."""
        session, self.session = self.session, None
        abandon = getattr(session, "abandon", None)
        if callable(abandon):
            abandon()
