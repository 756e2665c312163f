"""HTTP plumbing shared by the API functions: JSON bodies for every answer, errors included.

A client mistake is a 4xx with a body naming the field and why; a failing dependency is a
503 with Retry-After (the client may retry: submissions are idempotent); anything else a
JSON 500. API Gateway never sees an unhandled exception (that would be a bare 502).
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from botocore.exceptions import BotoCoreError, ClientError

from lambda_support.observability import logger
from task_domain.aws_errors import error_code, is_transient
from task_domain.errors import ApiError, service_unavailable


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
