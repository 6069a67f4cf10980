"""Turning google-api-core errors into FlowyML errors that carry Vertex's own message and a fix."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flowyml.errors import FlowymlError

#: Failures where trying again may help: the error is marked ``transient`` and the core retries it.
TRANSIENT = ("ServiceUnavailable", "TooManyRequests")

_HINTS = {
    "PermissionDenied": "grant the caller roles/aiplatform.user on the project (and roles/iam.serviceAccountUser on any service account it runs as)",
    "Unauthenticated": "run `gcloud auth application-default login` or set credentials_file / GOOGLE_APPLICATION_CREDENTIALS",
    "NotFound": "check project and location in the stack (the resource may live in another region)",
    "InvalidArgument": "Vertex rejected a value; see its message above",
    "FailedPrecondition": "the resource is not in a state that allows this; see Vertex's message above",
    "ResourceExhausted": "a Vertex quota is exhausted; request more quota or use smaller machines",
    "ServiceUnavailable": "Vertex AI is unavailable for now; FlowyML retried the call",
    "TooManyRequests": "Vertex AI is throttling the calls; FlowyML retried; lower the request rate or ask for more quota",
    "DefaultCredentialsError": "run `gcloud auth application-default login` or set credentials_file / GOOGLE_APPLICATION_CREDENTIALS",
}


def vertex_message(exc: BaseException) -> str:
    """Vertex's own message (``GoogleAPICallError.message``), else ``str(exc)``."""
    message = getattr(exc, "message", None)
    return str(message) if message else str(exc)


@contextmanager
def reported(error_cls: type[FlowymlError], action: str, where: str) -> Iterator[None]:
    """Re-raise anything but a FlowymlError as ``error_cls`` naming ``action`` and Vertex's reason."""
    try:
        yield
    except FlowymlError:
        raise
    except Exception as exc:
        kind = next((c.__name__ for c in type(exc).__mro__ if c.__name__ in _HINTS), None)
        code = getattr(exc, "code", None)
        status = f" ({type(exc).__name__}{f', HTTP {code}' if isinstance(code, int) else ''})"
        raise error_cls(
            f"{where}: {action} failed{status}: {vertex_message(exc)}",
            hint=_HINTS.get(kind or "", "see Vertex's message above"),
            transient=kind in TRANSIENT,
        ) from exc
