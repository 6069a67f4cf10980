"""Turning gcsfs / Google errors into FlowyML StoreErrors that say what to do.

gcsfs raises plain Python exceptions for most HTTP answers (404 ->
``FileNotFoundError``, 403 -> ``OSError("Forbidden: ...")``, 400 with
"invalid" -> ``ValueError``) and ``gcsfs.retry.HttpError`` (with ``.code``)
for the rest; connection failures surface as aiohttp / requests errors. None
of those modules is imported here: errors are recognised by class name and
attributes so that this module stays import-cheap.
"""

from __future__ import annotations

from flowyml.errors import StoreError

#: HTTP statuses worth retrying: request timeout, throttling, server errors.
TRANSIENT_CODES = frozenset({408, 429, 500, 502, 503, 504})

#: Exception class names (anywhere in the MRO) that mean the connection itself failed.
_CONNECTION_ERRORS = frozenset(
    {
        "ClientConnectionError",  # aiohttp: refused, reset, server disconnected
        "ClientOSError",
        "ServerDisconnectedError",
        "ClientPayloadError",
        "ConnectionError",  # builtin and requests.exceptions.ConnectionError
        "TimeoutError",
        "ProxyError",  # gcsfs raises it for HTTP 502
        "ChunkedEncodingError",
        "ReadTimeout",
    }
)


def _class_names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def http_code(exc: BaseException) -> int | None:
    """The HTTP status carried by a gcsfs ``HttpError`` (or an aiohttp response error), if any."""
    for attr in ("code", "status"):
        value = getattr(exc, attr, None)
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.isdigit():
            return int(value)
    return None


class GcsErrorTranslator:
    """Builds the StoreError for one failed call of a ``gcs`` store."""

    def __init__(self, bucket: str, stack: str, endpoint: str) -> None:
        self.bucket = bucket
        self.stack = stack
        self.endpoint = endpoint

    def where(self) -> str:
        return f"gcs artifact store of stack {self.stack!r} (bucket {self.bucket!r})"

    def missing_bucket(self) -> StoreError:
        return StoreError(
            f"{self.where()}: the bucket gs://{self.bucket} does not exist",
            hint=(
                f"create it (gcloud storage buckets create gs://{self.bucket}) or fix "
                f"stacks.{self.stack}.artifact_store.bucket in flowyml.yaml"
            ),
        )

    def translate(self, exc: Exception, action: str, *, bucket_missing: bool | None = None) -> StoreError:
        """The StoreError for ``exc`` raised while ``action``; ``transient=True`` when a retry may help."""
        names = _class_names(exc)
        code = http_code(exc)
        text = str(exc).strip() or type(exc).__name__
        if isinstance(exc, FileNotFoundError) or code == 404:
            if bucket_missing:
                return self.missing_bucket()
            return StoreError(
                f"{self.where()}: {action} failed: not found ({text})",
                hint="the object was deleted while it was being used; re-run the step that produced it",
            )
        if (isinstance(exc, PermissionError) or text.startswith("Forbidden") or code == 403) and code not in TRANSIENT_CODES:
            return StoreError(
                f"{self.where()}: access denied while {action}: {text.splitlines()[-1]}",
                hint=(
                    f"grant the identity running FlowyML roles/storage.objectAdmin on gs://{self.bucket} "
                    "(or point the store's token option / GOOGLE_APPLICATION_CREDENTIALS at a key that has it)"
                ),
            )
        if code == 401 or "DefaultCredentialsError" in names or "RefreshError" in names:
            return StoreError(
                f"{self.where()}: no valid Google credentials while {action}: {text}",
                hint=(
                    "run `gcloud auth application-default login`, set GOOGLE_APPLICATION_CREDENTIALS to a "
                    "service-account key, or set the store's token option"
                ),
                transient="RefreshError" in names,
            )
        if code in TRANSIENT_CODES:
            return StoreError(
                f"{self.where()}: {action} failed with HTTP {code} (Google Cloud Storage is throttling or unavailable): {text}",
                hint="retried with backoff; if it persists, check https://status.cloud.google.com or lower parallelism",
                transient=True,
            )
        if names & _CONNECTION_ERRORS:
            return StoreError(
                f"{self.where()}: cannot reach Google Cloud Storage at {self.endpoint} while {action}: "
                f"{type(exc).__name__}: {text}",
                hint="check the network (and the store's endpoint_url / STORAGE_EMULATOR_HOST when using an emulator)",
                transient=True,
            )
        if isinstance(exc, ValueError) and "Bad Request" in text:
            return StoreError(
                f"{self.where()}: Google Cloud Storage refused the request while {action}: {text}",
                hint=f"check the store's options under stacks.{self.stack}.artifact_store in flowyml.yaml",
            )
        return StoreError(f"{self.where()}: {action} failed: {type(exc).__name__}: {text}")
