"""Classify AWS SDK failures: worth retrying later, or a definite answer."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

# Error codes AWS services use for "slow down" or "try again": retrying later helps.
_TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "TransactionInProgressException",
        "InternalFailure",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "KMSThrottlingException",
    }
)


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a ClientError, else None."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "")) or None
    return None


def is_transient(exc: BaseException) -> bool:
    """True for throttling, 5xx answers and connection/timeout failures of the SDK."""
    if isinstance(exc, BotoCoreError):  # connection refused, read timeout, ...
        return True
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return error_code(exc) in _TRANSIENT_CODES or int(status or 0) >= 500
    return False


def is_code(exc: BaseException, *codes: str) -> bool:
    return error_code(exc) in codes
