"""HTTP plumbing shared by the API functions: JSON bodies for every answer, errors included.

A client mistake is a 4xx with a body naming the field and why; a failing dependency is a
503 with Retry-After (the client may retry: submissions are idempotent); anything else a
JSON 500. API Gateway never sees an unhandled exception (that would be a bare 502).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from botocore.exceptions import BotoCoreError, ClientError

from shared.aws_errors import error_code, is_transient
from shared.observability import logger

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


def json_response(
    status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> Response[Any]:
    return Response(
        status_code=int(status),
        content_type=content_types.APPLICATION_JSON,
        body=dict(body),
        headers=dict(headers or {}),
    )


def install_error_handlers(app: APIGatewayRestResolver) -> None:
    """Make every non-success answer of `app` a JSON document with the right status."""

    @app.exception_handler(ApiError)
    def _api_error(error: ApiError) -> Response[Any]:
        if error.status >= 500:
            logger.warning("Answering %s: %s", error.status, error.message)
        else:
            logger.info("Rejected request", extra={"status": error.status, "body": error.body()})
        return json_response(error.status, error.body(), error.headers)

    @app.not_found
    def _not_found(_: Exception) -> Response[Any]:
        return json_response(HTTPStatus.NOT_FOUND, {"message": "Not found"})

    @app.exception_handler([ClientError, BotoCoreError])
    def _dependency_failed(error: Exception) -> Response[Any]:
        logger.exception("AWS call failed", extra={"awsErrorCode": error_code(error)})
        if is_transient(error):
            failure = service_unavailable("A backing service is unavailable; retry later")
            return json_response(failure.status, failure.body(), failure.headers)
        return json_response(HTTPStatus.INTERNAL_SERVER_ERROR, {"message": "Internal error"})

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response[Any]:
        logger.exception("Unhandled error")
        return json_response(HTTPStatus.INTERNAL_SERVER_ERROR, {"message": "Internal error"})
