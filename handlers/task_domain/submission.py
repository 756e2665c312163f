"""From an HTTP request to a valid TaskSubmission, or the exact client error.

Order of checks: content type (415), body bytes and JSON syntax (400), the contract (400,
naming each field), then the size of the workflow input it would become (413). Anything the
queue or Step Functions would refuse later is refused here, so an accepted task can run.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from http import HTTPStatus
from typing import Any

from pydantic import ValidationError

from task_domain.errors import ApiError, FieldError, invalid_request
from task_domain.models import (
    MAX_PAYLOAD_DEPTH,
    MAX_WORKFLOW_INPUT_BYTES,
    TASK_ID_RULE,
    TaskSubmission,
)

_TASK_ID_ERROR_TYPES = {"string_pattern_mismatch", "string_too_long", "string_too_short"}
_ACCEPTED_CHARSETS = {"utf-8", "utf8"}
# SQS message bodies may hold only #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF;
# canonical JSON escapes the control characters, so only these two can still get through.
_UNQUEUEABLE = re.compile("[\ufffe\uffff]")


class _JsonRejected(ValueError):
    """JSON that json.loads would take but that is not a portable JSON document."""


def check_content_type(value: str | None) -> None:
    """application/json, optionally with charset=utf-8; anything else is 415."""
    media_type, _, parameters = (value or "").partition(";")
    charset = "utf-8"
    for parameter in parameters.split(";"):
        name, _, parameter_value = parameter.partition("=")
        if name.strip().lower() == "charset":
            charset = parameter_value.strip().strip('"').lower()
    if media_type.strip().lower() != "application/json" or charset not in _ACCEPTED_CHARSETS:
        raise ApiError(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json (UTF-8)",
            extra={"contentType": value[:200] if value else None},
        )


def decode_body(body: str | None, is_base64_encoded: bool) -> str:
    """The request body as text: base64 undone when API Gateway encoded it, strict UTF-8."""
    if body is None or body == "":
        raise invalid_request(FieldError("body", "the request body is empty"))
    if not is_base64_encoded:
        return body
    try:
        raw = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise invalid_request(FieldError("body", "the body is not valid base64")) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problem = f"the body is not valid UTF-8 (byte {exc.start})"
        raise invalid_request(FieldError("body", problem)) from None
    if text == "":
        raise invalid_request(FieldError("body", "the request body is empty"))
    return text


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Parsers disagree on which duplicate wins; refusing is the only unambiguous answer.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _JsonRejected(f"duplicate key {key!r}")
        result[key] = value
    return result


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # 1e400 parses to inf, which JSON cannot carry onwards
        raise _JsonRejected(f"number {text[:40]} is out of range")
    return number


def _no_constant(name: str) -> Any:
    raise _JsonRejected(f"{name} is not valid JSON")


def parse_json(text: str) -> Any:
    """Strict JSON: no duplicate keys, no NaN/Infinity, no numbers beyond a double."""
    try:
        return json.loads(
            text,
            object_pairs_hook=_object_without_duplicates,
            parse_float=_finite_float,
            parse_constant=_no_constant,
        )
    except _JsonRejected as exc:
        raise invalid_request(FieldError("body", str(exc))) from None
    except json.JSONDecodeError as exc:
        problem = f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        raise invalid_request(FieldError("body", problem)) from None
    except RecursionError:
        raise invalid_request(FieldError("body", "JSON is nested too deeply")) from None
    except ValueError as exc:  # e.g. an integer beyond Python's digit limit
        raise invalid_request(FieldError("body", f"malformed JSON: {exc}")) from None


def _field_errors(error: ValidationError) -> list[FieldError]:
    problems = []
    for item in error.errors(include_input=False, include_url=False):
        field = ".".join(str(part) for part in item["loc"]) or "body"
        message = item["msg"]
        if field == "body" and item["type"] == "model_type":
            message = "the body must be a JSON object with taskId and payload"
        elif field == "taskId" and item["type"] in _TASK_ID_ERROR_TYPES:
            message = f"taskId must be {TASK_ID_RULE}"
        elif field == "payload" and item["type"] == "dict_type":
            message = "payload must be a JSON object"
        problems.append(FieldError(field, message))
    return problems


def validate_submission(document: Any) -> TaskSubmission:
    """The contract of POST /tasks applied to a parsed JSON document."""
    try:
        submission = TaskSubmission.model_validate(document)
    except ValidationError as exc:
        raise invalid_request(*_field_errors(exc)) from None
    check_workflow_input(submission)
    return submission


def nesting_depth(value: Any) -> int:
    """Levels of objects and arrays in `value` (a scalar is 0), without recursion."""
    deepest = 0
    pending = [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        pending.extend((child, level + 1) for child in children)
    return deepest


def check_workflow_input(submission: TaskSubmission) -> None:
    """The queue message and execution input it becomes must be carriable and small enough."""
    depth = nesting_depth(submission.payload)
    if depth > MAX_PAYLOAD_DEPTH:
        problem = f"payload nests {depth} levels deep; the limit is {MAX_PAYLOAD_DEPTH}"
        raise invalid_request(FieldError("payload", problem))
    try:
        encoded = submission.workflow_input().to_json().encode("utf-8")
    except UnicodeEncodeError as exc:
        problem = f"contains an unpaired surrogate {exc.object[exc.start]!r}, not valid Unicode"
        raise invalid_request(FieldError("payload", problem)) from None
    except RecursionError:
        raise invalid_request(FieldError("payload", "payload is nested too deeply")) from None
    if _UNQUEUEABLE.search(encoded.decode("utf-8")):
        problem = "contains U+FFFE or U+FFFF, which a queue message cannot carry"
        raise invalid_request(FieldError("payload", problem))
    if len(encoded) > MAX_WORKFLOW_INPUT_BYTES:
        raise ApiError(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            "Task too large",
            [
                FieldError(
                    "payload",
                    f"the workflow input would be {len(encoded)} bytes; "
                    f"the limit is {MAX_WORKFLOW_INPUT_BYTES} bytes (Step Functions' 256 KiB, "
                    "less 1 KiB for the workflow's own fields)",
                )
            ],
        )


def parse_submission(
    content_type: str | None, body: str | None, is_base64_encoded: bool
) -> TaskSubmission:
    """All the checks of POST /tasks, in the order a client should fix them."""
    check_content_type(content_type)
    return validate_submission(parse_json(decode_body(body, is_base64_encoded)))
