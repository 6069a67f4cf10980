"""The options of the ``s3`` artifact store, as users write them in flowyml.yaml."""

from __future__ import annotations

import re

import attrs

from flowyml.plugins.component import OptionProblem

#: S3 bucket names: 3-63 characters, lowercase letters, digits, dots and hyphens.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
SSE_MODES = ("AES256", "aws:kms", "aws:kms:dsse")
MIN_PART_MB, MAX_PART_MB = 5, 5 * 1024


@attrs.frozen(kw_only=True)
class S3ArtifactStoreOptions:
    """Where artifacts go and how to reach S3.

    Credentials are never written here: they come from the standard AWS chain
    (environment, ``~/.aws`` profiles, SSO, instance/container roles), or from
    the named ``profile``.
    """

    #: The bucket (a bare name, no ``s3://``). Required.
    bucket: str
    #: Folder inside the bucket under which every artifact key goes.
    prefix: str = ""
    #: AWS region of the bucket (default: the chain's region, e.g. AWS_DEFAULT_REGION).
    region: str | None = None
    #: A custom S3 endpoint (MinIO, Ceph, LocalStack, a VPC endpoint). Default: AWS, or AWS_ENDPOINT_URL.
    endpoint_url: str | None = None
    #: A named profile from ~/.aws/config (default: the chain's default / AWS_PROFILE).
    profile: str | None = None
    #: Another name routing rules may use in ``store:`` besides ``s3``.
    name: str | None = None
    #: Server-side encryption: AES256, aws:kms or aws:kms:dsse (default: the bucket's default).
    server_side_encryption: str | None = None
    #: KMS key id/ARN/alias for aws:kms encryption.
    kms_key_id: str | None = None
    #: Storage class of new objects (STANDARD, INTELLIGENT_TIERING, STANDARD_IA, ...).
    storage_class: str | None = None
    #: The bucket is requester-pays: send the RequestPayer header.
    requester_pays: bool = False
    #: Path-style addressing (bucket in the path), which most S3-compatible servers need.
    path_style: bool = False
    #: Verify TLS certificates (turn off only for a self-signed S3-compatible server).
    verify_tls: bool = True
    #: Part size of multipart uploads, in MiB; objects under twice this size go in one request.
    multipart_chunk_mb: int = 50
    #: Parts uploaded/downloaded at once. Memory use per transfer is about this times the part size.
    max_concurrency: int = 4
    #: Attempts per operation for transient failures (throttling, 5xx, dropped connections).
    max_attempts: int = 4
    #: First retry delay in seconds; doubled on each further attempt.
    retry_backoff: float = 0.5
    #: Seconds to wait for a connection / a response.
    connect_timeout: float = 10.0
    read_timeout: float = 60.0


def problems(options: S3ArtifactStoreOptions) -> list[OptionProblem]:
    """Every problem with ``options`` (empty when they are usable); the store returns them from ``check_options``."""
    found: list[OptionProblem] = []
    bucket = options.bucket
    if bucket.startswith("s3://") or "/" in bucket:
        name, _sep, prefix = bucket.removeprefix("s3://").partition("/")
        found.append(OptionProblem("bucket", f"bucket must be a bare bucket name, got {bucket!r}", f"write `bucket: {name}`" + (f" and `prefix: {prefix}`" if prefix else "")))
    elif not _BUCKET.match(bucket):
        found.append(OptionProblem("bucket", f"{bucket!r} is not a valid S3 bucket name", "use 3-63 lowercase letters, digits, dots or hyphens"))
    if options.server_side_encryption is not None and options.server_side_encryption not in SSE_MODES:
        found.append(OptionProblem("server_side_encryption", f"unknown server_side_encryption {options.server_side_encryption!r}", f"use one of {', '.join(SSE_MODES)}"))
    if options.kms_key_id and options.server_side_encryption not in ("aws:kms", "aws:kms:dsse"):
        found.append(OptionProblem("kms_key_id", "kms_key_id is set but server_side_encryption is not aws:kms", "add `server_side_encryption: aws:kms`"))
    if not MIN_PART_MB <= options.multipart_chunk_mb <= MAX_PART_MB:
        found.append(OptionProblem("multipart_chunk_mb", f"multipart_chunk_mb must be between {MIN_PART_MB} and {MAX_PART_MB} (S3's part size limits), got {options.multipart_chunk_mb}", "S3 parts are 5 MiB to 5 GiB"))
    for field in ("max_concurrency", "max_attempts", "connect_timeout", "read_timeout"):
        if getattr(options, field) <= 0:
            found.append(OptionProblem(field, f"{field} must be positive, got {getattr(options, field)}", f"set {field} to a number above 0"))
    if options.retry_backoff < 0:
        found.append(OptionProblem("retry_backoff", f"retry_backoff cannot be negative, got {options.retry_backoff}", "use 0 for no delay"))
    return found
