"""boto3 clients and SageMaker error handling shared by the components (imports boto3 on first call)."""

from __future__ import annotations

import re
from typing import Any

from flowyml_sagemaker.options import ConnectionOptions

#: SageMaker resource names: letters, digits and hyphens, starting and ending with a letter or digit.
_INVALID = re.compile(r"[^a-zA-Z0-9-]+")


def resource_name(*parts: str, limit: int = 63) -> str:
    """A valid SageMaker name from ``parts`` (``fraud_detector`` -> ``fraud-detector``), at most ``limit`` long."""
    text = "-".join(p for p in parts if p)
    text = _INVALID.sub("-", text)
    text = re.sub(r"-{2,}", "-", text).strip("-")
    return text[:limit].rstrip("-") or "flowyml"


def client(service: str, options: ConnectionOptions) -> Any:
    """A boto3 client for ``service`` configured from the component's options."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(profile_name=options.profile) if options.profile else boto3.session.Session()
    # botocore is the one retry layer of SageMaker calls: standard mode (throttling and 5xx, with backoff);
    # total_max_attempts counts the first try too (botocore's own max_attempts would count retries only).
    retries: dict[str, Any] = {"mode": "standard"}
    if options.max_attempts:
        retries["total_max_attempts"] = options.max_attempts
    config = Config(retries=retries)
    return session.client(service, region_name=options.region, endpoint_url=options.endpoint_url, config=config)


def error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return (response.get("Error") or {}).get("Code")
    return None


def error_message(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error") or {}
        return f"{error.get('Code', 'Error')}: {error.get('Message', '')}".strip()
    return f"{type(exc).__name__}: {exc}"


def is_client_error(exc: BaseException) -> bool:
    return any(cls.__name__ == "ClientError" for cls in type(exc).__mro__)


def is_missing(exc: BaseException) -> bool:
    """SageMaker says "not found" as a ValidationException (or ResourceNotFound) whose message says so."""
    if not is_client_error(exc):
        return False
    code = error_code(exc) or ""
    text = error_message(exc).lower()
    return code in ("ResourceNotFound", "ResourceNotFoundException") or (
        code == "ValidationException" and ("not found" in text or "does not exist" in text or "could not find" in text)
    )


def fix_for(exc: BaseException, action: str) -> str:
    """The hint for a failed SageMaker call."""
    code = error_code(exc) or ""
    if code in ("AccessDenied", "AccessDeniedException"):
        return f"the AWS identity needs the SageMaker permission for {action}; see the minimal IAM policy in docs/backends/sagemaker.md"
    if code in ("UnrecognizedClientException", "InvalidClientTokenId", "ExpiredTokenException", "InvalidSignatureException"):
        return "check the AWS credentials the chain finds (aws sts get-caller-identity), or set the component's profile"
    if code in ("ResourceLimitExceeded",):
        return "raise the SageMaker service quota for this instance type, or use a smaller/other instance_type"
    if any(cls.__name__ == "NoCredentialsError" for cls in type(exc).__mro__):
        return "configure AWS credentials (aws configure, AWS_PROFILE, or an instance role)"
    return f"see the AWS error above; the request was {action}"
