"""Error types: the workflow's task errors and the API's client-facing rejections.

The exception class name is the error name Step Functions sees (Lambda reports it as
`errorType`), so the workflow's Retry and Catch match on these names. Keep them stable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from http import HTTPStatus
from typing import Any

# Error messages end up in the workflow's Cause and in the dead-letter message; keep them
# bounded so that a dead-letter message always fits SQS's size limit.
MAX_ERROR_MESSAGE_CHARS = 2048


class TaskError(Exception):
    """Base of the errors process-task raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message[:MAX_ERROR_MESSAGE_CHARS])


class TransientTaskError(TaskError):
    """A failure that may go away: the workflow retries it with exponential backoff."""


class PermanentTaskError(TaskError):
    """A failure that will not go away: never retried, the task is dead-lettered."""


TRANSIENT_ERROR_NAME = TransientTaskError.__name__
PERMANENT_ERROR_NAME = PermanentTaskError.__name__


# -- the API's answers other than success --------------------------------------------------

# Seconds a client should wait before retrying after a 503.
RETRY_AFTER_SECONDS = 5


@dataclass(frozen=True)
class FieldError:
    """One problem with the request: which field (dotted path, or "body") and why."""

    field: str
    message: str


class ApiError(Exception):
    """An answer other than success, raised from anywhere below a route."""

    def __init__(
        self,
        status: int,
        message: str,
        errors: Sequence[FieldError] = (),
        *,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = list(errors)
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, **self.extra}
        if self.errors:
            body["errors"] = [asdict(error) for error in self.errors]
        return body


def invalid_request(*errors: FieldError) -> ApiError:
    return ApiError(HTTPStatus.BAD_REQUEST, "Invalid request", errors)


def service_unavailable(message: str, **extra: Any) -> ApiError:
    return ApiError(
        HTTPStatus.SERVICE_UNAVAILABLE,
        message,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        extra=extra,
    )
