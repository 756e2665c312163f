"""The contract of POST /tasks, rule by rule, at each boundary (no AWS involved)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from task_domain.errors import ApiError
from task_domain.models import MAX_WORKFLOW_INPUT_BYTES, TaskSubmission, canonical_json
from task_domain.submission import (
    check_content_type,
    decode_body,
    parse_json,
    parse_submission,
    validate_submission,
)


def _rejected(document: Any) -> ApiError:
    with pytest.raises(ApiError) as raised:
        validate_submission(document)
    return raised.value


def _fields(error: ApiError) -> list[str]:
    return [problem.field for problem in error.errors]


# --- taskId -------------------------------------------------------------------------------


@pytest.mark.parametrize("task_id", ["a", "a" * 80, "ABC-xyz_019", "_", "-", "0" * 80])
def test_valid_task_ids_are_accepted(task_id):
    # Given a taskId of allowed characters, 1 to 80 long
    # When it is validated
    submission = validate_submission({"taskId": task_id, "payload": {}})
    # Then it is kept as is
    assert submission.task_id == task_id


@pytest.mark.parametrize(
    ("task_id", "why"),
    [
        ("", "empty"),
        ("a" * 81, "81 characters"),
        ("has space", "space"),
        ("has.dot", "dot"),
        ("has/slash", "slash"),
        ("back\\slash", "backslash"),
        ("tâche", "non-ASCII letter"),
        ("task-😀", "emoji"),
        ("tab\there", "control character"),
        ("nul\x00", "NUL"),
        ("trailing-newline\n", "trailing newline"),
        ("colon:name", "colon (ARN separator)"),
        ("star*", "wildcard"),
        ("br[ack]et", "bracket"),
        ("percent%20", "percent"),
        ("a" * 79 + "é", "80 characters but one not allowed"),
    ],
)
def test_invalid_task_ids_are_400_on_task_id(task_id, why):
    # Given a taskId that is not 1-80 characters of A-Z a-z 0-9 _ -
    # When it is validated
    error = _rejected({"taskId": task_id, "payload": {}})
    # Then 400 naming taskId and the rule
    assert error.status == 400, why
    assert _fields(error) == ["taskId"], why
    assert "1-80 characters of A-Z a-z 0-9 _ -" in error.errors[0].message


@pytest.mark.parametrize("task_id", [42, None, True, ["a"], {"id": "a"}, 1.5])
def test_non_string_task_ids_are_400(task_id):
    # Given a taskId that is not a string (no coercion: 42 is not "42")
    # When it is validated
    error = _rejected({"taskId": task_id, "payload": {}})
    # Then 400 on taskId
    assert _fields(error) == ["taskId"]
    assert "string" in error.errors[0].message


def test_missing_task_id_is_400():
    error = _rejected({"payload": {}})
    assert [(e.field, e.message) for e in error.errors] == [("taskId", "Field required")]


# --- payload ------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [{}, {"a": 1}, {"nested": {"list": [1, None, "x", True]}}])
def test_object_payloads_are_accepted(payload):
    assert validate_submission({"taskId": "t", "payload": payload}).payload == payload


@pytest.mark.parametrize("payload", [[], [1, 2], None, "text", "", 0, 1.5, True, False], ids=repr)
def test_non_object_payloads_are_400(payload):
    # Given a payload that is not a JSON object
    # When it is validated
    error = _rejected({"taskId": "t", "payload": payload})
    # Then 400 on payload
    assert [(e.field, e.message) for e in error.errors] == [
        ("payload", "payload must be a JSON object")
    ]


def test_missing_payload_is_400():
    assert _fields(_rejected({"taskId": "t"})) == ["payload"]


def test_unknown_fields_are_400_naming_them():
    error = _rejected({"taskId": "t", "payload": {}, "priority": 1})
    assert _fields(error) == ["priority"]


def test_all_problems_are_reported_together():
    # Given a body with two wrong fields
    # When it is validated
    error = _rejected({"taskId": "bad id", "payload": []})
    # Then both are named
    assert sorted(_fields(error)) == ["payload", "taskId"]


@pytest.mark.parametrize("document", [[], "text", 1, None, True], ids=repr)
def test_a_body_that_is_not_an_object_is_400(document):
    error = _rejected(document)
    assert [(e.field, e.message) for e in error.errors] == [
        ("body", "the body must be a JSON object with taskId and payload")
    ]


# --- the size limit of the workflow input (256 KiB less 1 KiB) -----------------------


def _task_of_size(size: int, filler: str = "x") -> dict[str, Any]:
    """A task whose workflow input (canonical JSON, UTF-8) is exactly `size` bytes."""
    overhead = len(canonical_json({"payload": {"data": ""}, "taskId": "t"}).encode())
    room = size - overhead
    count, rest = divmod(room, len(filler.encode()))
    return {"taskId": "t", "payload": {"data": filler * count + "x" * rest}}


def test_exactly_the_limit_is_accepted():
    task = _task_of_size(MAX_WORKFLOW_INPUT_BYTES)
    submission = validate_submission(task)
    assert submission.workflow_input().size_bytes() == MAX_WORKFLOW_INPUT_BYTES


def test_one_byte_over_the_limit_is_413():
    # Given a task one byte over the limit
    task = _task_of_size(MAX_WORKFLOW_INPUT_BYTES + 1)
    # When it is validated
    error = _rejected(task)
    # Then 413 on the payload, saying the size and the limit
    assert error.status == 413
    assert _fields(error) == ["payload"]
    assert str(MAX_WORKFLOW_INPUT_BYTES + 1) in error.errors[0].message


def test_the_limit_counts_utf8_bytes_not_characters():
    # Given multi-byte characters filling the limit plus one byte
    task = _task_of_size(MAX_WORKFLOW_INPUT_BYTES + 1, filler="é")
    # When it is validated
    # Then it is too large, although it has fewer characters than the limit
    assert len(json.dumps(task, ensure_ascii=False)) < MAX_WORKFLOW_INPUT_BYTES
    assert _rejected(task).status == 413


def test_the_limit_is_measured_on_canonical_json_not_the_request():
    # Given a request padded with whitespace far beyond the limit
    task = _task_of_size(MAX_WORKFLOW_INPUT_BYTES)
    body = json.dumps(task, indent=64)
    assert len(body) > MAX_WORKFLOW_INPUT_BYTES
    # When it is parsed
    # Then it is accepted: the workflow input is what must fit
    assert parse_submission("application/json", body, False).task_id == "t"


@pytest.mark.parametrize(("text", "problem"), [("\ud800", "surrogate"), ("\uffff", "U+FFFF")])
def test_characters_a_queue_cannot_carry_are_400(text, problem):
    error = _rejected({"taskId": "t", "payload": {"x": text}})
    assert error.status == 400
    assert _fields(error) == ["payload"]
    assert problem in error.errors[0].message


# --- content type, body encoding and JSON syntax ------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        'application/json; charset="utf-8"',
        "APPLICATION/JSON",
    ],
)
def test_json_content_types_are_accepted(value):
    check_content_type(value)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "text/plain",
        "application/xml",
        "application/json-patch+json",
        "application/jsonx",
        "multipart/form-data; boundary=x",
        "application/json; charset=iso-8859-1",
        "application/json; charset=utf-16",
    ],
)
def test_other_content_types_are_415(value):
    with pytest.raises(ApiError) as raised:
        check_content_type(value)
    assert raised.value.status == 415


@pytest.mark.parametrize("body", [None, ""])
def test_an_empty_body_is_400(body):
    with pytest.raises(ApiError) as raised:
        decode_body(body, False)
    assert raised.value.status == 400


def test_base64_bodies_are_decoded():
    encoded = base64.b64encode('{"a": "é"}'.encode()).decode()
    assert decode_body(encoded, True) == '{"a": "é"}'


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("***", "base64"),
        (base64.b64encode(b"\xff\xfe{}").decode(), "UTF-8"),
        (base64.b64encode(b"").decode(), "empty"),
    ],
)
def test_bad_base64_or_utf8_is_400(body, problem):
    with pytest.raises(ApiError) as raised:
        decode_body(body, True)
    assert raised.value.status == 400
    assert problem in raised.value.errors[0].message


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{", "malformed JSON"),
        ("{'taskId': 't'}", "malformed JSON"),
        ('{"a": 1,}', "malformed JSON"),
        ("\ufeff{}", "malformed JSON"),
        ('{"a": 1, "a": 2}', "duplicate key 'a'"),
        ('{"p": {"b": 1, "b": 1}}', "duplicate key 'b'"),
        ('{"a": NaN}', "NaN"),
        ('{"a": Infinity}', "Infinity"),
        ('{"a": -Infinity}', "-Infinity"),
        ('{"a": 1e400}', "out of range"),
        ('{"a": ' + "9" * 5000 + "}", "malformed JSON"),
        ("[" * 50_000 + "]" * 50_000, "nested too deeply"),
    ],
)
def test_json_that_is_not_portable_is_400(text, problem):
    # Given a body that json.loads would reject or silently bend
    # When it is parsed
    with pytest.raises(ApiError) as raised:
        parse_json(text)
    # Then 400 on the body, saying why
    assert raised.value.status == 400
    assert raised.value.errors[0].field == "body"
    assert problem in raised.value.errors[0].message


def test_error_bodies_name_each_field():
    # Given a rejected submission
    error = _rejected({"taskId": "", "payload": None})
    # When its body is built
    body = error.body()
    # Then it is the documented shape
    assert body["message"] == "Invalid request"
    assert {e["field"] for e in body["errors"]} == {"taskId", "payload"}
    assert all(set(e) == {"field", "message"} for e in body["errors"])


def test_the_checks_run_in_the_order_a_client_fixes_them():
    # Given a request wrong in every way
    # When it is parsed
    # Then the content type is reported first
    with pytest.raises(ApiError) as raised:
        parse_submission("text/plain", "{", False)
    assert raised.value.status == 415


def test_a_valid_request_gives_the_submission():
    body = json.dumps({"taskId": "task-001", "payload": {"a": [1, 2.5, None]}})
    submission = parse_submission("application/json", body, False)
    assert submission == TaskSubmission(task_id="task-001", payload={"a": [1, 2.5, None]})
