"""Which MLflow run logged a pipeline run, so the registry can link model versions to it.

The mlflow tracker records the run it opens for each FlowyML run here; the
mlflow registry, registering that run's models (in the same process, before
the tracker closes the run), passes it to ``create_model_version`` as
``run_id`` and, for a tracking server, ``run_link``.
"""

from __future__ import annotations

import threading

import attrs

__all__ = ["LoggedRun", "logged_run", "remember"]


@attrs.frozen
class LoggedRun:
    tracking_uri: str
    experiment_id: str
    run_id: str

    @property
    def link(self) -> str | None:
        """The run's page on a tracking server (None for a database or folder the client opens itself)."""
        if not self.tracking_uri.startswith(("http://", "https://")):
            return None
        return f"{self.tracking_uri.rstrip('/')}/#/experiments/{self.experiment_id}/runs/{self.run_id}"

    def version_kwargs(self) -> dict[str, str]:
        """Keyword arguments of ``MlflowClient.create_model_version`` that link a version to this run."""
        return {"run_id": self.run_id, **({"run_link": self.link} if self.link else {})}


_RUNS: dict[str, LoggedRun] = {}
_LOCK = threading.Lock()


def remember(flowyml_run_id: str, tracking_uri: str, experiment_id: str, mlflow_run_id: str) -> LoggedRun:
    logged = LoggedRun(tracking_uri, experiment_id, mlflow_run_id)
    with _LOCK:
        _RUNS[flowyml_run_id] = logged
    return logged


def logged_run(flowyml_run_id: str | None) -> LoggedRun | None:
    """The MLflow run the mlflow tracker opened for ``flowyml_run_id`` in this process, if any."""
    if not flowyml_run_id:
        return None
    with _LOCK:
        return _RUNS.get(flowyml_run_id)
