"""The ``tensorboard`` experiment tracker component (tensorboardX is imported when a run starts, not before)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import flowyml
from flowyml.errors import TrackerError
from flowyml.plugins.component import OptionProblem
from flowyml.plugins.types import RunInfo
from flowyml.trackers import SessionTracker
from flowyml_tensorboard.options import TensorboardTrackerOptions

if TYPE_CHECKING:
    from flowyml_tensorboard.session import TensorboardRunSession


class TensorboardTracker(SessionTracker):
    """Event files under ``<log_dir>/<pipeline>/<run id>``: scalars, texts and an hparams session."""

    kind = "experiment_tracker"
    Options = TensorboardTrackerOptions

    @classmethod
    def check_options(cls, options: TensorboardTrackerOptions) -> list[OptionProblem]:
        if options.flush_secs <= 0:
            return [OptionProblem("flush_secs", "flush_secs must be a positive number of seconds", "e.g. flush_secs: 10")]
        return []

    @property
    def log_dir(self) -> Path:
        path = Path(self.options.log_dir).expanduser()
        return path if path.is_absolute() else self.context.project_dir / path

    def run_dir(self, run: RunInfo) -> Path:
        """Where one run's event files go."""
        return self.log_dir / run.pipeline_name / run.run_id

    def describe(self) -> str:
        return f"tensorboard event files in {self.log_dir}"

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

    def new_session(self, run: RunInfo) -> TensorboardRunSession:
        from flowyml_tensorboard.session import TensorboardRunSession

        return TensorboardRunSession(run, self.run_dir(run), self.options.flush_secs, self.options.prefix_step_name)
