"""One pipeline run as an MLflow run: what is logged where, in batches.

Imports mlflow (through :mod:`flowyml_mlflow.connection`); the tracker imports
this module when a run starts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, TypeVar

from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException

from flowyml.errors import TrackerError
from flowyml.plugins.types import RunInfo
from flowyml_mlflow.connection import call, error_code, make_client, resolve_uri
from flowyml_mlflow.names import (
    MAX_METRICS_PER_BATCH,
    MAX_PARAM_VALUE_LENGTH,
    MAX_PARAMS_TAGS_PER_BATCH,
    MAX_TAG_VALUE_LENGTH,
    chunks,
    cut,
    sanitize_key,
    sanitize_keys,
)
from flowyml_mlflow.options import MlflowTrackerOptions
from flowyml_mlflow.run_link import remember

T = TypeVar("T")
#: FlowyML's final statuses as MLflow run statuses.
STATUSES = {"completed": "FINISHED", "failed": "FAILED"}


class MlflowRunSession:
    """The MLflow run (and, with ``nested_runs``, one child run per step) of one pipeline run."""

    def __init__(self, options: MlflowTrackerOptions, run: RunInfo) -> None:
        self.options = options
        self.info = run
        self.uri = resolve_uri(options.tracking_uri)
        self.client = make_client(options.tracking_uri)
        self.experiment_id = ""
        self.run_id = ""
        self.children: dict[str, str] = {}
        #: Parameters already logged, per MLflow run: MLflow never lets a parameter change.
        self.params: dict[str, dict[str, tuple[str, str]]] = {}
        #: Keys each step logged (the ``flowyml.step.<name>`` tag of the pipeline's run).
        self.step_keys: dict[str, set[str]] = {}

    # -- calls ------------------------------------------------------------------------

    def call(self, action: str, fn: Callable[[], T]) -> T:
        """Run one MLflow call with bounded HTTP retries; failures become TrackerErrors naming the URI."""
        return call(action, fn, uri=self.uri, retries=self.options.request_retries, timeout=self.options.request_timeout)

    # -- runs -------------------------------------------------------------------------

    def start(self) -> str | None:
        """Open the MLflow run; its page on a tracking server (None for a database or folder store)."""
        name = self.options.experiment_name or self.info.pipeline_name
        self.experiment_id = self.call(f"opening experiment {name!r}", lambda: self._experiment(name))
        tags = {**self.info.tags, "flowyml.run_id": self.info.run_id, "flowyml.pipeline": self.info.pipeline_name,
                "flowyml.stack": self.info.stack_name}
        created = self.call(
            f"creating the run of pipeline run {self.info.run_id}",
            lambda: self.client.create_run(self.experiment_id, run_name=self.info.run_id, tags=tags),
        )
        self.run_id = created.info.run_id
        return remember(self.info.run_id, self.uri, self.experiment_id, self.run_id).link  # the registry links versions to it

    def _experiment(self, name: str) -> str:
        found = self.client.get_experiment_by_name(name)
        if found is not None:
            if found.lifecycle_stage == "deleted":
                raise TrackerError(
                    f"MLflow experiment {name!r} at {self.uri} is deleted",
                    hint="restore it (`mlflow experiments restore`) or set experiment_name to another name",
                )
            return str(found.experiment_id)
        try:
            return str(self.client.create_experiment(name))
        except MlflowException as exc:
            if error_code(exc) != "RESOURCE_ALREADY_EXISTS":  # created concurrently: use it
                raise
            again = self.client.get_experiment_by_name(name)
            assert again is not None
            return str(again.experiment_id)

    def run_for(self, step_name: str) -> str:
        """The MLflow run a step's values go to (its nested run with ``nested_runs``)."""
        if not self.options.nested_runs:
            return self.run_id
        if step_name not in self.children:
            tags = {"mlflow.parentRunId": self.run_id, "flowyml.run_id": self.info.run_id,
                    "flowyml.pipeline": self.info.pipeline_name, "flowyml.stack": self.info.stack_name,
                    "flowyml.step": step_name}
            child = self.call(
                f"creating the nested run of step {step_name!r}",
                lambda: self.client.create_run(self.experiment_id, run_name=step_name, tags=tags),
            )
            self.children[step_name] = child.info.run_id
        return self.children[step_name]

    def end(self, status: str) -> None:
        mlflow_status = STATUSES.get(status, "FAILED")
        for step_name, child in self.children.items():
            self.call(f"ending the nested run of step {step_name!r}", partial(self.client.set_terminated, child, mlflow_status))
        self.call("ending the run", lambda: self.client.set_terminated(self.run_id, mlflow_status))

    # -- values -----------------------------------------------------------------------

    def log_metrics(self, metrics: Mapping[str, float], step: int | None, metadata: Mapping[str, Any], step_name: str) -> None:
        names = sanitize_keys(metrics, "metric")
        stamp = int(time.time() * 1000)
        entries = [Metric(names[k], float(v), stamp, step if step is not None else 0) for k, v in metrics.items()]
        tags = self._metadata_tags(metadata, step_name) + self._step_tags(step_name, names.values())
        self._batch(self.run_for(step_name), metrics=entries, tags=tags, what=f"metrics of step {step_name!r}")

    def log_params(self, params: Mapping[str, Any], step_name: str) -> None:
        run_id = self.run_for(step_name)
        names = sanitize_keys(params, "parameter")
        logged = self.params.setdefault(run_id, {})
        entries: list[Param] = []
        for key, value in params.items():
            text = cut(str(value), MAX_PARAM_VALUE_LENGTH, f"parameter {key!r}")
            name = names[key]
            if name in logged:
                before, by = logged[name]
                if before != text:
                    raise TrackerError(
                        f"parameter {key!r} is {text!r} in step {step_name!r} but step {by!r} logged it as "
                        f"{before!r}: an MLflow run's parameters cannot change",
                        hint="give the parameters distinct names, or set nested_runs: true on the "
                        "experiment tracker so that each step has its own MLflow run",
                    )
                continue
            entries.append(Param(name, text))
        tags = self._step_tags(step_name, names.values())
        self._batch(run_id, params=entries, tags=tags, what=f"parameters of step {step_name!r}")
        for entry in entries:
            logged[entry.key] = (entry.value, step_name)

    def _metadata_tags(self, metadata: Mapping[str, Any], step_name: str) -> list[RunTag]:
        """``Metrics.with_metadata(...)`` as run tags ``flowyml.metadata.<step>.<key>`` (latest wins)."""
        return [
            RunTag(sanitize_key(f"flowyml.metadata.{step_name}.{key}"), cut(str(value), MAX_TAG_VALUE_LENGTH, f"metadata {key!r}"))
            for key, value in metadata.items()
        ]

    def _step_tags(self, step_name: str, keys: Any) -> list[RunTag]:
        """In a single run, tag ``flowyml.step.<step>`` lists the keys that step logged (sent when it grows)."""
        if self.options.nested_runs:
            return []
        known = self.step_keys.setdefault(step_name, set())
        new = set(keys) - known
        if not new:
            return []
        known.update(new)
        text = cut(", ".join(sorted(known)), MAX_TAG_VALUE_LENGTH, f"tag flowyml.step.{step_name}")
        return [RunTag(sanitize_key(f"flowyml.step.{step_name}"), text)]

    def _batch(self, run_id: str, *, metrics: list[Metric] | None = None, params: list[Param] | None = None,
               tags: list[RunTag] | None = None, what: str) -> None:
        """Send everything with as few ``log_batch`` requests as MLflow's limits allow."""
        small: list[Any] = [*(params or []), *(tags or [])]
        # at most 1000 entities per request: leave room for the params and tags of the first one
        metric_chunks = chunks(list(metrics or []), MAX_METRICS_PER_BATCH - (MAX_PARAMS_TAGS_PER_BATCH if small else 0))
        small_chunks = chunks(small, MAX_PARAMS_TAGS_PER_BATCH)
        for index in range(max(len(metric_chunks), len(small_chunks))):
            batch_metrics = metric_chunks[index] if index < len(metric_chunks) else []
            batch_small = small_chunks[index] if index < len(small_chunks) else []
            if not batch_metrics and not batch_small:
                continue
            batch_params = [e for e in batch_small if isinstance(e, Param)]
            batch_tags = [e for e in batch_small if isinstance(e, RunTag)]
            self.call(
                f"logging {what}",
                partial(self.client.log_batch, run_id, metrics=batch_metrics, params=batch_params, tags=batch_tags, synchronous=True),
            )

