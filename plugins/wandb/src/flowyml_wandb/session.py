"""One pipeline run as one W&B run. Imports wandb: the tracker imports this module when a run starts.

Keys are prefixed with the step's name (``train/loss``), which W&B shows as one
panel section per step. A step's ``.at_step(n)`` is logged as its own x-axis
metric ``<step>/step`` (``define_metric``), so steps never have to increase
across the pipeline and W&B never drops a point for going back in time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import wandb

from flowyml.errors import TrackerError
from flowyml.plugins.types import RunInfo
from flowyml_wandb.options import WandbTrackerOptions

#: W&B refuses tags longer than 64 characters.
MAX_TAG_LENGTH = 64
#: FlowyML's final statuses as W&B exit codes.
EXIT_CODES = {"completed": 0, "failed": 1}


def login_hint(mode: str) -> str:
    return (
        "run `wandb login` (or set WANDB_API_KEY) for online runs, or set mode: offline on the "
        "experiment tracker and upload later with `wandb sync`"
        if mode == "online"
        else "check the experiment tracker's options (project, entity, dir)"
    )


class WandbRunSession:
    """The W&B run of one pipeline run."""

    def __init__(self, options: WandbTrackerOptions, run: RunInfo, directory: Path) -> None:
        self.options = options
        self.info = run
        self.directory = directory
        self.run: Any = None
        self.defined: set[str] = set()
        self.config: dict[str, tuple[Any, str]] = {}

    @property
    def mode(self) -> str:
        import os

        return self.options.mode or os.environ.get("WANDB_MODE") or "online"

    def start(self) -> None:
        tags = [f"pipeline:{self.info.pipeline_name}", f"stack:{self.info.stack_name}", *self.options.tags]
        for tag in tags:
            if len(tag) > MAX_TAG_LENGTH:
                raise TrackerError(
                    f"W&B tag {tag!r} is longer than {MAX_TAG_LENGTH} characters",
                    hint="shorten the pipeline, stack or experiment_tracker.tags names",
                )
        self.directory.mkdir(parents=True, exist_ok=True)
        try:
            self.run = wandb.init(
                project=self.options.project or self.info.pipeline_name,
                entity=self.options.entity,
                mode=self.mode,  # type: ignore[arg-type]
                dir=str(self.directory),
                name=self.info.run_id,
                group=self.options.group or self.info.pipeline_name,
                job_type="pipeline",
                tags=tags,
                notes=f"FlowyML pipeline {self.info.pipeline_name!r}, run {self.info.run_id}, stack {self.info.stack_name!r}",
                reinit="create_new",
            )
        except Exception as exc:
            error = TrackerError(
                f"W&B could not start a {self.mode} run in project {self.options.project or self.info.pipeline_name!r}: "
                f"{type(exc).__name__}: {exc}",
                hint=login_hint(self.mode),
            )
            error.transient = isinstance(exc, wandb.errors.CommError)  # type: ignore[attr-defined]
            raise error from exc

    def _define_step_axis(self, step_name: str) -> None:
        if step_name not in self.defined:
            self.run.define_metric(f"{step_name}/step", hidden=True)
            self.run.define_metric(f"{step_name}/*", step_metric=f"{step_name}/step")
            self.defined.add(step_name)

    def log_metrics(self, metrics: Mapping[str, float], step: int | None, metadata: Mapping[str, Any], step_name: str) -> None:
        row: dict[str, Any] = {f"{step_name}/{key}": float(value) for key, value in metrics.items()}
        if step is not None:
            self._define_step_axis(step_name)
            row[f"{step_name}/step"] = step
        self.run.log(row)
        if metadata:  # latest metadata of the step, in the run summary
            self.run.summary[f"{step_name}/metadata"] = {str(k): _jsonable(v) for k, v in metadata.items()}

    def log_params(self, params: Mapping[str, Any], step_name: str) -> None:
        new: dict[str, Any] = {}
        for key, value in params.items():
            if key in self.config:
                before, by = self.config[key]
                if before != value:
                    raise TrackerError(
                        f"parameter {key!r} is {value!r} in step {step_name!r} but step {by!r} logged it as {before!r}: "
                        "a W&B run's config value cannot change",
                        hint="give the parameters distinct names",
                    )
                continue
            new[key] = value
        if new:
            self.run.config.update(new)
        for key, value in new.items():
            self.config[key] = (value, step_name)

    def end(self, status: str) -> None:
        self.run.summary["flowyml/status"] = status
        self.run.finish(exit_code=EXIT_CODES.get(status, 1))


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return str(value)
