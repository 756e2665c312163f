"""API Gateway's own answers (unknown route, invalid body, integration failure ...), including
those the template customizes (AWS::ApiGateway::GatewayResponse).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ftb.localcloud.apigateway.models import RestApi

# -- API Gateway's own responses ---------------------------------------------------------------

_DEFAULT_RESPONSES: dict[str, tuple[int, str]] = {
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token"),
    "ACCESS_DENIED": (403, "Forbidden"),
    # Authorization (sigv4.py, api_keys.py pass API Gateway's exact message and error type).
    "INVALID_SIGNATURE": (403, "Forbidden"),
    "EXPIRED_TOKEN": (403, "The security token included in the request is expired"),
    "INVALID_API_KEY": (403, "Forbidden"),
    "THROTTLED": (429, "Too Many Requests"),
    "QUOTA_EXCEEDED": (429, "Limit Exceeded"),
    "BAD_REQUEST_BODY": (400, "Invalid request body"),
    "BAD_REQUEST_PARAMETERS": (400, "Missing required request parameters"),
    "UNSUPPORTED_MEDIA_TYPE": (415, "Unsupported Media Type"),
    "REQUEST_TOO_LARGE": (413, "Request Too Long"),
    "INTEGRATION_FAILURE": (502, "Internal server error"),
    "INTEGRATION_TIMEOUT": (504, "Endpoint request timed out"),
    "DEFAULT_5XX": (500, "Internal server error"),
}
_ERROR_TYPES = {
    400: "BadRequestException",
    403: "MissingAuthenticationTokenException",
    413: "BadRequestException",
    415: "UnsupportedMediaTypeException",
    502: "InternalServerErrorException",
    504: "InternalServerErrorException",
    500: "InternalServerErrorException",
}


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def gateway_response(
    api: RestApi | None,
    response_type: str,
    request_id: str,
    *,
    message: str | None = None,
    validation_error: str = "",
    error_type: str | None = None,
) -> Response:
    status, default_message = _DEFAULT_RESPONSES[response_type]
    text = message or default_message
    family = "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
    custom = None
    if api is not None:
        custom = api.gateway_responses.get(response_type) or api.gateway_responses.get(family)
    template = '{"message":$context.error.messageString}'
    headers: dict[str, str] = {}
    if custom is not None:
        status = custom.status or status
        headers.update(custom.headers)
        template = custom.templates.get("application/json", template)
    rendered = (
        template.replace("$context.error.messageString", json.dumps(text))
        .replace("$context.error.message", text)
        .replace("$context.error.validationErrorString", validation_error)
        .replace("$context.error.responseType", response_type)
        .replace("$context.requestId", request_id)
    )
    if error_type is None and status == 403 and response_type == "ACCESS_DENIED":
        error_type = "ForbiddenException"
    elif error_type is None:
        error_type = _ERROR_TYPES.get(status, "ApiGatewayException")
    return Response(
        status=status,
        headers=[
            ("Content-Type", "application/json"),
            ("x-amzn-ErrorType", error_type),
            *headers.items(),
        ],
        body=rendered.encode("utf-8"),
    )
