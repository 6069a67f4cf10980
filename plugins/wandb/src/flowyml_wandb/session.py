"""One pipeline run as one W&B run. Imports wandb: the tracker imports this module when a run starts.

Metrics keep their names (``loss``), or become ``<step>/<key>`` with
``prefix_step_name`` (W&B shows one panel section per prefix). A ``.at_step(n)``
is logged as the x-axis metric ``flowyml/step`` of those keys
(``define_metric``) rather than as W&B's own ``_step``, so steps need not
increase across the pipeline and W&B never drops a point for going back in
time. Metrics without a step are plotted against W&B's ``_step``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import wandb

from flowyml.errors import TrackerError
from flowyml.plugins.types import RunInfo
from flowyml_wandb.options import WandbTrackerOptions

#: W&B refuses tags longer than 64 characters.
MAX_TAG_LENGTH = 64
#: The x-axis metric holding ``Metrics.at_step(n)``.
STEP_KEY = "flowyml/step"
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
        self.step_keys: dict[str, dict[str, None]] = {}
        self.config: dict[str, tuple[Any, str]] = {}

    @property
    def mode(self) -> str:
        import os

        return self.options.mode or os.environ.get("WANDB_MODE") or "online"

    def start(self) -> str | None:
        """Open the W&B run; its page online, its folder (what ``wandb sync`` uploads) offline."""
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
                mode=cast(Any, self.mode),  # wandb's Literal modes; checked against MODES when the stack is built
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
            error.transient = isinstance(exc, wandb.errors.CommError)
            raise error from exc
        return self.where()

    def where(self) -> str | None:
        """The run's page (online) or the folder holding its data (offline; disabled runs have neither)."""
        if self.mode == "online":
            return cast("str | None", self.run.url)
        if self.mode == "offline":
            return str(self.run.sync_dir)
        return None

    def _use_step_axis(self) -> None:
        """Plot every metric against ``flowyml/step``: two definitions per run, whatever the number of keys.

        ``step_sync=False``: a row without a step is not given the last step's value.
        """
        if STEP_KEY not in self.defined:
            self.run.define_metric(STEP_KEY, hidden=True)
            self.run.define_metric("*", step_metric=STEP_KEY, step_sync=False)
            self.defined.add(STEP_KEY)

    def log_metrics(self, metrics: Mapping[str, float], step: int | None, metadata: Mapping[str, Any], step_name: str) -> None:
        prefix = f"{step_name}/" if self.options.prefix_step_name else ""
        row: dict[str, Any] = {f"{prefix}{key}": float(value) for key, value in metrics.items()}
        if STEP_KEY in row:
            raise TrackerError(f"step {step_name!r} logs a metric named {STEP_KEY!r}, which FlowyML uses for .at_step()", hint="rename that metric")
        if step is not None:
            self._use_step_axis()
            row[STEP_KEY] = step
        self.run.log(row)
        known = self.step_keys.setdefault(step_name, {})  # an ordered set
        if not known.keys() >= metrics.keys():  # which step logged which keys, in the summary
            known.update(dict.fromkeys(metrics))
            self.run.summary[f"flowyml/steps/{step_name}"] = ", ".join(known)  # text: cheap for W&B to encode
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

    def abandon(self) -> None:
        """A run the core never ended (an interrupted process) is finished as failed."""
        if self.run is not None:
            self.run.finish(exit_code=1)


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return str(value)
