"""The ``wandb`` experiment tracker component (wandb is imported when a run starts, not before)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import flowyml
from flowyml.errors import TrackerError
from flowyml.plugins.component import OptionProblem
from flowyml.plugins.types import RunInfo
from flowyml.trackers import SessionTracker
from flowyml_wandb.options import MODES, WandbTrackerOptions

if TYPE_CHECKING:
    from flowyml_wandb.session import WandbRunSession


class WandbTracker(SessionTracker):
    """One W&B run per pipeline run: Metrics as history (``<step>/<key>``), Parameters as config."""

    kind = "experiment_tracker"
    Options = WandbTrackerOptions

    @classmethod
    def check_options(cls, options: WandbTrackerOptions) -> list[OptionProblem]:
        if options.mode is not None and options.mode not in MODES:
            return [OptionProblem("mode", f"unknown W&B mode {options.mode!r}", f"use one of {', '.join(MODES)}")]
        return []

    @property
    def directory(self) -> Path:
        """Where wandb puts its ``wandb/`` folder."""
        path = Path(self.options.dir).expanduser() if self.options.dir else Path(".")
        return path if path.is_absolute() else self.context.project_dir / path

    def describe(self) -> str:
        mode = self.options.mode or os.environ.get("WANDB_MODE") or "online"
        return f"wandb tracker ({mode}), project {self.options.project or '<pipeline name>'}, files in {self.directory}"

    @flowyml.hookimpl
    def flowyml_component_check(self) -> list[str]:
        mode = self.options.mode or os.environ.get("WANDB_MODE") or "online"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TrackerError(f"wandb: cannot create {self.directory}: {exc.strerror}", hint="point experiment_tracker.dir at a writable folder") from exc
        lines = [f"wandb files go to {self.directory} ({mode})"]
        if mode == "online":
            from wandb.apis import InternalApi

            if not InternalApi().api_key:
                raise TrackerError("no W&B API key is configured for online runs", hint="run `wandb login` or set WANDB_API_KEY, or use mode: offline")
            lines.append("a W&B API key is configured (not verified against the server)")
        return lines

    def new_session(self, run: RunInfo) -> WandbRunSession:
        from flowyml_wandb.session import WandbRunSession

        return WandbRunSession(self.options, run, self.directory)
