"""The options of the ``gcs`` artifact store, as users write them in ``flowyml.yaml``."""

from __future__ import annotations

import re

import attrs

from flowyml.plugins.component import OptionProblem

_BUCKET = re.compile(r"[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]")

#: Largest accepted upload chunk: gcsfs reads each chunk into memory before sending it.
MAX_CHUNK_MB = 1024


def problems(options: GcsStoreOptions) -> list[OptionProblem]:
    """Every invalid value; the store returns them from ``check_options`` (the core reports the first with its YAML line)."""
    found: list[OptionProblem] = []
    bucket = options.bucket
    if bucket.startswith(("gs://", "gcs://")) or "/" in bucket:
        found.append(OptionProblem("bucket", f"bucket must be a bare bucket name (no gs:// and no path), got {bucket!r}", "put the folder in prefix"))
    elif not _BUCKET.fullmatch(bucket):
        found.append(
            OptionProblem(
                "bucket",
                f"{bucket!r} is not a valid GCS bucket name",
                "use 3-222 lowercase letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
            )
        )
    if not 1 <= options.upload_chunk_mb <= MAX_CHUNK_MB:
        found.append(
            OptionProblem(
                "upload_chunk_mb",
                f"upload_chunk_mb must be between 1 and {MAX_CHUNK_MB} (MiB held in memory per upload), got {options.upload_chunk_mb}",
                "e.g. upload_chunk_mb: 50",
            )
        )
    if options.max_attempts < 1:
        found.append(OptionProblem("max_attempts", f"max_attempts must be at least 1, got {options.max_attempts}", "use 1 for no retries"))
    if options.request_timeout is not None and options.request_timeout <= 0:
        found.append(OptionProblem("request_timeout", f"request_timeout must be positive, got {options.request_timeout}", "e.g. request_timeout: 60"))
    return found


@attrs.frozen
class GcsStoreOptions:
    """``artifact_store: {type: gcs, bucket: ..., ...}``.

    Credentials are never required here: by default they come from Google's
    standard chain (``GOOGLE_APPLICATION_CREDENTIALS``, ``gcloud auth
    application-default login``, the metadata server on Google Cloud).
    """

    #: The bucket holding the artifacts (it must exist; FlowyML never creates buckets).
    bucket: str
    #: Folder inside the bucket under which every artifact key is placed.
    prefix: str = ""
    #: Google Cloud project (used for billing with requester-pays buckets); default: the environment's.
    project: str | None = None
    #: gcsfs credentials: a service-account JSON key file, or ``google_default``, ``cloud``, ``cache``, ``anon``.
    token: str | None = None
    #: Storage API endpoint, e.g. an emulator at ``http://127.0.0.1:9023`` (default: Google's, or ``STORAGE_EMULATOR_HOST``).
    endpoint_url: str | None = None
    #: Bill reads and writes to ``project`` on requester-pays buckets.
    requester_pays: bool = False
    #: Chunk size of resumable uploads, in MiB (files under 5 MB go in one request). Each chunk is
    #: one HTTP request and is held in memory while it is sent: larger chunks mean fewer round trips.
    upload_chunk_mb: int = 50
    #: Attempts per storage call for transient errors, on top of gcsfs' own 6 tries of each HTTP
    #: request (which cannot be configured): the default 1 leaves retrying to gcsfs.
    max_attempts: int = 1
    #: Seconds before one HTTP request is abandoned (None: gcsfs' default).
    request_timeout: float | None = None
    #: Optional name a routing rule's ``store:`` may use besides ``gcs``.
    name: str | None = None

    @property
    def root(self) -> str:
        """``bucket/prefix`` without a trailing slash (what fsspec paths start with)."""
        prefix = self.prefix.strip("/")
        return f"{self.bucket}/{prefix}" if prefix else self.bucket
