"""The ``tensorboard`` experiment tracker component (tensorboardX is imported when a run starts, not before)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import flowyml
from flowyml.errors import TrackerError
from flowyml.plugins.component import Component, ComponentContext
from flowyml.plugins.types import RunInfo
from flowyml_tensorboard.options import TensorboardTrackerOptions

if TYPE_CHECKING:
    from flowyml_tensorboard.session import TensorboardRunSession


class TensorboardTracker(Component):
    """Event files under ``<log_dir>/<pipeline>/<run id>``: scalars, texts and an hparams session."""

    kind = "experiment_tracker"
    Options = TensorboardTrackerOptions

    def __init__(self, options: TensorboardTrackerOptions, context: ComponentContext) -> None:
        super().__init__(options, context)
        if options.flush_secs <= 0:
            raise context.config_error("flush_secs", "flush_secs must be a positive number of seconds", hint="e.g. flush_secs: 10")
        self.session: TensorboardRunSession | None = None

    @property
    def log_dir(self) -> Path:
        path = Path(self.options.log_dir).expanduser()
        return path if path.is_absolute() else self.context.project_dir / path

    def run_dir(self, run: RunInfo) -> Path:
        """Where one run's event files go."""
        return self.log_dir / run.pipeline_name / run.run_id

    def describe(self) -> str:
        return f"tensorboard event files in {self.log_dir}"

    def _open(self) -> TensorboardRunSession:
        if self.session is None or self.session.writer is None:
            raise TrackerError("the tensorboard tracker was asked to log before its run was started")
        return self.session

    @flowyml.hookimpl
    def flowyml_component_check(self) -> list[str]:
        try:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            probe = self.log_dir / ".flowyml-check"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            raise TrackerError(f"tensorboard: cannot write to {self.log_dir}: {exc.strerror}", hint="point experiment_tracker.log_dir at a writable folder") from exc
        return [f"{self.log_dir} is writable (view with: tensorboard --logdir {self.log_dir})"]

    @flowyml.hookimpl
    def flowyml_tracker_start_run(self, run: RunInfo) -> None:
        from flowyml_tensorboard.session import TensorboardRunSession

        session = TensorboardRunSession(run, self.run_dir(run), self.options.flush_secs, self.options.prefix_step_name)
        session.start()
        self.session = session

    @flowyml.hookimpl
    def flowyml_tracker_log_metrics(
        self, metrics: Mapping[str, float], step: int | None, metadata: Mapping[str, Any], step_name: str
    ) -> None:
        self._open().log_metrics(metrics, step, metadata, step_name)

    @flowyml.hookimpl
    def flowyml_tracker_log_params(self, params: Mapping[str, Any], step_name: str) -> None:
        self._open().log_params(params, step_name)

    @flowyml.hookimpl
    def flowyml_tracker_end_run(self, status: str) -> None:
        self._open().end(status)
        self.session = None

    def close(self) -> None:
        """Flush and close a writer the core never ended (nothing written is lost)."""
        if self.session is not None and self.session.writer is not None:
            self.session.writer.close()
            self.session = None
