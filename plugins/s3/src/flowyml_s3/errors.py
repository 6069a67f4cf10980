"""Turning what s3fs/botocore raise into FlowyML errors with a fix.

s3fs converts botocore's ``ClientError`` into ``OSError`` subclasses and
chains the original as ``__cause__``; the S3 error code (``NoSuchBucket``,
``AccessDenied``, ...) is read from there.
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Iterator

from flowyml.errors import ArtifactError, FlowymlError, StoreError

#: S3 error codes worth retrying.
TRANSIENT_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestThrottled",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "ServiceUnavailable",
        "OperationAborted",
        "ConditionalRequestConflict",  # 409: a concurrent conditional write; S3 asks to retry
        "500",
        "502",
        "503",
        "504",
    }
)
BAD_CREDENTIALS = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired", "InvalidClientTokenId"}
)
DENIED = frozenset({"AccessDenied", "AllAccessDisabled", "AccountProblem", "403"})
#: botocore/aiohttp exception class names that mean "the connection failed".
CONNECTION_ERRORS = frozenset(
    {
        "EndpointConnectionError",
        "ConnectionClosedError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ProxyConnectionError",
        "HTTPClientError",
        "IncompleteReadError",
        "ResponseStreamingError",
        "ClientConnectionError",
        "ClientConnectorError",
        "ServerDisconnectedError",
        "ClientOSError",
        "ClientPayloadError",
        "FSTimeoutError",
    }
)
CONNECTION_ERRNOS = frozenset({errno.ECONNRESET, errno.ECONNREFUSED, errno.ECONNABORTED, errno.EPIPE, errno.ETIMEDOUT})


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def error_code(exc: BaseException) -> str | None:
    """The S3 error code of the first botocore ClientError in ``exc``'s chain."""
    for item in _chain(exc):
        response = getattr(item, "response", None)
        if isinstance(response, dict):
            error = response.get("Error") or {}
            code = error.get("Code")
            if code:
                return str(code)
            status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
            if status:
                return str(status)
    return None


def is_connection_failure(exc: BaseException) -> bool:
    for item in _chain(exc):
        names = {cls.__name__ for cls in type(item).__mro__}
        if names & CONNECTION_ERRORS:
            return True
        if isinstance(item, ConnectionError | TimeoutError | asyncio.TimeoutError):
            return True
        if isinstance(item, OSError) and item.errno in CONNECTION_ERRNOS:
            return True
    return False


def translate(exc: Exception, action: str, *, bucket: str, root_uri: str, stack: str, endpoint: str) -> FlowymlError:
    """A StoreError saying what failed and how to fix it; ``transient=True`` when a retry may help."""
    code = error_code(exc)
    detail = f"{type(exc).__name__}: {exc}"
    where = f"the s3 artifact store of stack {stack!r}"
    if code == "NoSuchBucket":
        return StoreError(
            f"{where}: bucket {bucket!r} does not exist ({action})",
            hint=f"create it (aws s3 mb s3://{bucket}) or fix artifact_store.bucket of stack {stack!r} in flowyml.yaml",
        )
    if code in BAD_CREDENTIALS:
        return StoreError(
            f"{where}: S3 rejected the AWS credentials ({code}) while {action} in bucket {bucket!r}",
            hint="check the credentials the AWS chain finds (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, "
            "`aws sts get-caller-identity`), or set artifact_store.profile; refresh expired SSO/session tokens",
        )
    if code in DENIED or (code is None and isinstance(exc, PermissionError)):
        return StoreError(
            f"{where}: access denied to {root_uri} while {action}",
            hint=f"allow s3:ListBucket on arn:aws:s3:::{bucket} and s3:GetObject, s3:PutObject, s3:DeleteObject on "
            f"arn:aws:s3:::{bucket}/* for the identity the AWS chain uses (and kms:GenerateDataKey/kms:Decrypt for a KMS key)",
        )
    if any(type(item).__name__ in ("NoCredentialsError", "PartialCredentialsError") for item in _chain(exc)):
        return StoreError(
            f"{where}: no AWS credentials found while {action}",
            hint="configure credentials (aws configure, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or an "
            "instance role), or set artifact_store.profile",
        )
    if code in TRANSIENT_CODES or (code is not None and code.isdigit() and int(code) >= 500):
        return StoreError(f"{where}: S3 is busy or failing ({code}) while {action}", transient=True)
    if is_connection_failure(exc):
        return StoreError(
            f"{where}: cannot reach S3 at {endpoint} while {action}: {detail}",
            hint="check the network and artifact_store.endpoint_url / region",
            transient=True,
        )
    if code in ("NoSuchKey", "404") or (code is None and isinstance(exc, FileNotFoundError)):
        return ArtifactError(f"{where}: nothing stored while {action}: {detail}")
    return StoreError(f"{where}: {action} failed: {detail}", hint=f"check the bucket with: flowyml stack check {stack}")
