"""What the Logs handlers of this package share: a JSON-protocol call dispatched to the
handler method of its operation, and AWS's error answer for a refused request."""

from __future__ import annotations

import json
from collections.abc import Set
from typing import Any

from werkzeug.wrappers import Response

from ftb.localcloud.endpoint.calls import AwsCall, json_error


class BadRequest(Exception):
    """A refused request: AWS's error code and message (and any extra fields it adds)."""

    def __init__(self, code: str, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra or {}

    def response(self) -> Response:
        response = json_error(self.code, self.message)
        if self.extra:
            body = json.loads(response.get_data())
            body.update(self.extra)
            response.set_data(json.dumps(body))
        return response


def invalid(message: str) -> BadRequest:
    return BadRequest("InvalidParameterException", message)


def dispatch(owner: Any, call: AwsCall, operations: Set[str]) -> Response | None:
    """`owner._<Operation>(body, call)` for a JSON call of `operations`; None for any other."""
    if call.protocol != "json" or call.operation not in operations:
        return None
    try:
        body = call.json()
        if not isinstance(body, dict):
            raise ValueError("not an object")
    except ValueError:
        return json_error("SerializationException", "the request body is not a JSON object")
    try:
        handler = getattr(owner, f"_{call.operation}")
        return handler(body, call)  # type: ignore[no-any-return]
    except BadRequest as error:
        return error.response()
