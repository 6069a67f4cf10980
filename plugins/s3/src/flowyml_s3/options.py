"""The options of the ``s3`` artifact store, as users write them in flowyml.yaml."""

from __future__ import annotations

import re

import attrs

#: S3 bucket names: 3-63 characters, lowercase letters, digits, dots and hyphens.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
SSE_MODES = ("AES256", "aws:kms", "aws:kms:dsse")
MIN_PART_MB, MAX_PART_MB = 5, 5 * 1024


def _check_bucket(_: object, __: attrs.Attribute[str], value: str) -> None:
    if value.startswith("s3://") or "/" in value:
        bucket, _sep, prefix = value.removeprefix("s3://").partition("/")
        raise ValueError(
            f"bucket must be a bare bucket name, got {value!r}; "
            f"write `bucket: {bucket}` and `prefix: {prefix or '...'}`"
        )
    if not _BUCKET.match(value):
        raise ValueError(
            f"{value!r} is not a valid S3 bucket name (3-63 lowercase letters, digits, dots or hyphens)"
        )


def _check_sse(_: object, __: attrs.Attribute[str | None], value: str | None) -> None:
    if value is not None and value not in SSE_MODES:
        raise ValueError(f"server_side_encryption must be one of {', '.join(SSE_MODES)}, got {value!r}")


def _check_part(_: object, __: attrs.Attribute[int], value: int) -> None:
    if not MIN_PART_MB <= value <= MAX_PART_MB:
        raise ValueError(f"multipart_chunk_mb must be between {MIN_PART_MB} and {MAX_PART_MB} (S3's part size limits), got {value}")


def _positive(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be positive, got {value}")


@attrs.frozen(kw_only=True)
class S3ArtifactStoreOptions:
    """Where artifacts go and how to reach S3.

    Credentials are never written here: they come from the standard AWS chain
    (environment, ``~/.aws`` profiles, SSO, instance/container roles), or from
    the named ``profile``.
    """

    #: The bucket (a bare name, no ``s3://``). Required.
    bucket: str = attrs.field(validator=_check_bucket)
    #: Folder inside the bucket under which every artifact key goes.
    prefix: str = attrs.field(default="", converter=lambda p: str(p).strip("/"))
    #: AWS region of the bucket (default: the chain's region, e.g. AWS_DEFAULT_REGION).
    region: str | None = None
    #: A custom S3 endpoint (MinIO, Ceph, LocalStack, a VPC endpoint). Default: AWS, or AWS_ENDPOINT_URL.
    endpoint_url: str | None = None
    #: A named profile from ~/.aws/config (default: the chain's default / AWS_PROFILE).
    profile: str | None = None
    #: Another name routing rules may use in ``store:`` besides ``s3``.
    name: str | None = None
    #: Server-side encryption: AES256, aws:kms or aws:kms:dsse (default: the bucket's default).
    server_side_encryption: str | None = attrs.field(default=None, validator=_check_sse)
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
    multipart_chunk_mb: int = attrs.field(default=32, validator=_check_part)
    #: Parts uploaded/downloaded at once. Memory use per transfer is about this times the part size.
    max_concurrency: int = attrs.field(default=4, validator=_positive)
    #: Attempts per operation for transient failures (throttling, 5xx, dropped connections).
    max_attempts: int = attrs.field(default=4, validator=_positive)
    #: First retry delay in seconds; doubled on each further attempt.
    retry_backoff: float = attrs.field(default=0.5, validator=attrs.validators.ge(0))
    #: Seconds to wait for a connection / a response.
    connect_timeout: float = attrs.field(default=10.0, validator=_positive)
    read_timeout: float = attrs.field(default=60.0, validator=_positive)

    def __attrs_post_init__(self) -> None:
        if self.kms_key_id and self.server_side_encryption not in ("aws:kms", "aws:kms:dsse"):
            raise ValueError("kms_key_id needs server_side_encryption: aws:kms (or aws:kms:dsse)")
