"""The MLflow client, its HTTP settings, and MLflow failures as FlowyML errors.

This module imports mlflow: the components import it inside their hooks only.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from flowyml.errors import FlowymlError, TrackerError

E = TypeVar("E", bound=FlowymlError)
T = TypeVar("T")

_ENV_LOCK = threading.Lock()
START_SERVER_HINT = (
    "start a server (`mlflow server --host 127.0.0.1 --port 5000`) or point tracking_uri "
    "(or MLFLOW_TRACKING_URI) at a running one; check it with `flowyml stack check`"
)


def resolve_uri(tracking_uri: str | None) -> str:
    """The tracking URI in effect: the option, else MLflow's own resolution (MLFLOW_TRACKING_URI, default)."""
    return tracking_uri or mlflow.get_tracking_uri()


def make_client(tracking_uri: str | None, registry_uri: str | None = None) -> MlflowClient:
    """An MlflowClient bound to explicit URIs (no global mlflow state is touched)."""
    return MlflowClient(tracking_uri=resolve_uri(tracking_uri), registry_uri=registry_uri or resolve_uri(tracking_uri))


@contextlib.contextmanager
def http_settings(retries: int, timeout: int) -> Iterator[None]:
    """Bound MLflow's own HTTP retries and timeout for the calls made inside.

    MLflow reads these from the environment at each request; values the user
    set in the environment win.
    """
    wanted = {
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": str(retries),
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
        "MLFLOW_HTTP_REQUEST_TIMEOUT": str(timeout),
    }
    with _ENV_LOCK:
        added = [key for key in wanted if key not in os.environ]
        for key in added:
            os.environ[key] = wanted[key]
        try:
            yield
        finally:
            for key in added:
                os.environ.pop(key, None)


def call(
    action: str,
    fn: Callable[[], T],
    *,
    uri: str,
    retries: int,
    timeout: int,
    error: type[FlowymlError] = TrackerError,
    refine: Callable[[Exception, FlowymlError], None] | None = None,
) -> T:
    """Run one MLflow call with bounded HTTP retries; a failure becomes an ``error`` naming ``uri`` and ``action``.

    ``refine(exc, error)`` may adjust the error (a better hint) before it is raised.
    """
    try:
        with http_settings(retries, timeout):
            return fn()
    except FlowymlError:
        raise
    except Exception as exc:
        translated = translate(exc, uri, action, error)
        if refine is not None:
            refine(exc, translated)
        raise translated from exc


def is_unreachable(exc: BaseException) -> bool:
    """Whether an MLflow failure means the server could not be reached."""
    text = str(exc)
    return "API request to" in text and (
        "Failed to establish a new connection" in text
        or "Max retries exceeded" in text
        or "timed out" in text.lower()
        or "Connection aborted" in text
    )


def error_code(exc: BaseException) -> str | None:
    return getattr(exc, "error_code", None) if isinstance(exc, MlflowException) else None


def translate(exc: Exception, uri: str, action: str, error: type[E] = TrackerError) -> E:  # type: ignore[assignment]
    """An MLflow (or connection) failure as a FlowyML error of class ``error``, naming the URI."""
    if is_unreachable(exc) or isinstance(exc, ConnectionError | TimeoutError):
        return error(
            f"MLflow tracking server at {uri} is unreachable while {action}: {first_line(exc)}",
            hint=START_SERVER_HINT,
            transient=True,  # the core retries it
        )
    code = error_code(exc)
    detail = f"{code}: {first_line(exc)}" if code else f"{type(exc).__name__}: {first_line(exc)}"
    return error(f"MLflow at {uri} refused {action}: {detail}")


def first_line(exc: BaseException, limit: int = 400) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line if len(line) <= limit else line[: limit - 1] + "…"
