"""Hostile requests against the running local API (`ftb local`, as a client reaches it).

Every rejection must be a 4xx whose JSON body says what was wrong: every 400 for a body is
the function's and names the field (`errors[].field`; the gateway does not validate bodies),
API Gateway's routing answers `403 Missing Authentication Token` with the routes the API
offers. What is just
within the limits must be accepted and must run: an accepted task that cannot run downstream
would be lost.

Requests go through http.client so that nothing is added behind the test's back (urllib sets
a form Content-Type on any POST body). Each carries the API's authorization, as a real client
does (tests/support/api_auth.py): the hostile part is the request, not a missing signature;
test_hostile_auth.py sends the unauthenticated and wrongly signed ones.
"""

from __future__ import annotations

import json
import socket
import uuid
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from task_domain.models import MAX_PAYLOAD_DEPTH, MAX_WORKFLOW_INPUT_BYTES, canonical_json
from tests.support.local_cloud import LocalCloudProcess
from tests.support.raw_http import Answer, send

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(300)]

JSON = {"Content-Type": "application/json"}


def post_json(cloud: LocalCloudProcess, document: Any) -> Answer:
    return send(cloud.tasks_endpoint, body=json.dumps(document).encode(), headers=JSON)


def new_id(prefix: str) -> str:
    """A fresh taskId that does not end in 3 (those fail permanently, by design)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}0"


def assert_rejected(answer: Answer, status: int, says: str | None = None) -> dict[str, Any]:
    """A 4xx, JSON, with a message; `says` = the field named in `errors`."""
    assert answer.status == status, (answer.status, answer.body[:300])
    assert answer.headers.get("content-type", "").startswith("application/json"), answer.headers
    body = answer.json()
    assert isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"]
    if says is not None:
        assert says in [error["field"] for error in body.get("errors", [])], body
    return body


def assert_offers_the_routes(body: dict[str, Any]) -> None:
    """API Gateway's 403 message, plus what the API offers (its MISSING_AUTHENTICATION_TOKEN
    gateway response, built from api/openapi.yaml)."""
    assert body["message"] == "Missing Authentication Token", body
    assert body["routes"] == ["POST /v1/tasks", "GET /v1/tasks/{taskId}"], body
    assert "POST /v1/tasks" in body["detail"], body


def nested(levels: int, leaf: Any = 1) -> Any:
    """{"a": {"a": ... leaf}} with `levels` objects."""
    value = leaf
    for _ in range(levels):
        value = {"a": value}
    return value


def deep_json(levels: int, opener: str = '{"a":', closer: str = "}") -> bytes:
    """A payload nested `levels` deep as text (json.dumps itself cannot build 10,000 levels)."""
    return (
        '{"taskId":"deep","payload":{"a":' + opener * levels + "1" + closer * levels + "}}"
    ).encode()


def body_of_size(task_id: str, size: int, filler: str = "x") -> dict[str, Any]:
    """A submission whose workflow input (canonical JSON, UTF-8) is exactly `size` bytes."""
    empty = len(canonical_json({"payload": {"blob": ""}, "taskId": task_id}).encode())
    unit = len(filler.encode())
    count, rest = divmod(size - empty, unit)
    blob = filler * count + "x" * rest
    document = {"taskId": task_id, "payload": {"blob": blob}}
    assert len(canonical_json({"payload": document["payload"], "taskId": task_id}).encode()) == size
    return document


# -- size -----------------------------------------------------------------------------------


@pytest.mark.parametrize("filler", ["x", "\U0001f600"], ids=["ascii", "emoji (4 bytes each)"])
def test_a_task_exactly_at_the_size_limit_is_accepted_and_runs(
    api_cloud: LocalCloudProcess, filler: str
) -> None:
    # Given a task whose workflow input is exactly at the limit, in UTF-8 bytes (not characters)
    task_id = new_id("max")
    # When it is submitted
    answer = post_json(api_cloud, body_of_size(task_id, MAX_WORKFLOW_INPUT_BYTES, filler))
    # Then it is accepted, and its workflow runs it to the end
    assert answer.status == 202, answer.body[:300]
    api_cloud.wait_for_status(task_id, "SUCCEEDED", timeout=90)


@pytest.mark.parametrize("filler", ["x", "\U0001f600"], ids=["ascii", "emoji (4 bytes each)"])
def test_one_byte_over_the_size_limit_is_413_naming_the_sizes(
    api_cloud: LocalCloudProcess, filler: str
) -> None:
    # Given a task one byte over the limit
    document = body_of_size(new_id("over"), MAX_WORKFLOW_INPUT_BYTES + 1, filler)
    # When it is submitted  Then it is refused with 413, naming its size and the limit
    body = assert_rejected(post_json(api_cloud, document), 413, says="payload")
    assert str(MAX_WORKFLOW_INPUT_BYTES + 1) in body["errors"][0]["message"]


def test_a_body_over_lambdas_6_mb_is_api_gateways_413(api_cloud: LocalCloudProcess) -> None:
    # Given a 7 MB body (under API Gateway's 10 MB, over Lambda's 6 MB invocation payload)
    body = b'{"taskId":"seven","payload":{"a":"' + b"x" * (7 * 1024 * 1024) + b'"}}'
    # When it is posted  Then API Gateway answers 413 Request Too Long, never a 5xx
    answer = assert_rejected(send(api_cloud.tasks_endpoint, body=body, headers=JSON), 413)
    assert answer["message"] == "Request Too Long"


def test_a_body_over_api_gateways_10_mb_is_413(api_cloud: LocalCloudProcess) -> None:
    body = b'{"taskId":"eleven","payload":{"a":"' + b"x" * (11 * 1024 * 1024) + b'"}}'
    answer = assert_rejected(send(api_cloud.tasks_endpoint, body=body, headers=JSON), 413)
    assert "10485760" in answer["message"]


# -- nesting ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opener", "closer"), [('{"a":', "}"), ("[", "]")], ids=["objects", "arrays"]
)
@pytest.mark.parametrize("levels", [10_000, 100_000])
def test_absurdly_deep_json_is_a_400_not_a_crash(
    api_cloud: LocalCloudProcess, levels: int, opener: str, closer: str
) -> None:
    # Given JSON nested far beyond any parser's recursion limit
    body = deep_json(levels, opener, closer)
    # When it is posted  Then the answer is a JSON 400, and the API still answers afterwards
    assert_rejected(send(api_cloud.tasks_endpoint, body=body, headers=JSON), 400, says="body")
    assert send(f"{api_cloud.tasks_endpoint}/still-up", "GET").status == 404


@pytest.mark.parametrize("levels", [MAX_PAYLOAD_DEPTH + 1, 199, 900])
def test_a_payload_nested_beyond_the_limit_is_refused_naming_the_limit(
    api_cloud: LocalCloudProcess, levels: int
) -> None:
    # Given a payload nested more than 64 levels (Python's parser would still read it, the
    # starter's parser stops at 200: accepting it would dead-letter an accepted task)
    document = {"taskId": new_id("deep"), "payload": nested(levels)}
    # Then it is a 400 that names the payload, its depth and the limit
    body = assert_rejected(post_json(api_cloud, document), 400, says="payload")
    assert f"{levels} levels" in body["errors"][0]["message"]
    assert str(MAX_PAYLOAD_DEPTH) in body["errors"][0]["message"]


def test_a_payload_at_the_depth_limit_is_accepted_and_runs(api_cloud: LocalCloudProcess) -> None:
    # Given a payload exactly 64 levels deep, objects and arrays mixed
    task_id = new_id("depth")
    payload = nested(MAX_PAYLOAD_DEPTH - 2, leaf=[["leaf"]])
    document = {"taskId": task_id, "payload": payload}
    # When it is submitted  Then it is accepted and the workflow runs it (the starter read it)
    assert post_json(api_cloud, document).status == 202
    api_cloud.wait_for_status(task_id, "SUCCEEDED", timeout=90)


# -- encodings and JSON syntax ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b'{"taskId":"u8","payload":{"a":"\xff\xfe"}}', "body"),  # invalid UTF-8 bytes
        (b'{"taskId":"\xc3(","payload":{}}', "body"),  # truncated 2-byte sequence
        (b'{"taskId":"u8","payload":{"a":"\xed\xa0\x80"}}', "body"),  # UTF-8-encoded surrogate
        (b"\xef\xbb\xbf" + b'{"taskId":"bom","payload":{}}', "body"),  # byte order mark
        (b'{"taskId":"sur","payload":{"a":"\\ud800"}}', "payload"),  # unpaired surrogate escape
        (b'{"taskId":"ffff","payload":{"a":"\\uffff"}}', "payload"),  # not carriable by SQS
        (b'{"taskId":"dup","taskId":"dup2","payload":{}}', "body"),  # duplicate keys
        (b'{"taskId":"dup","payload":{"k":1,"k":2}}', "body"),  # duplicate keys, nested
        (b'{"taskId":"nan","payload":{"a":NaN}}', "body"),
        (b'{"taskId":"inf","payload":{"a":-Infinity}}', "body"),
        (b'{"taskId":"big","payload":{"a":1e400}}', "body"),  # beyond a double
        (b'{"taskId":"int","payload":{"a":' + b"9" * 5000 + b"}}", "body"),  # 5,000 digits
        (b'{"taskId":"x","payload":{}', "body"),  # truncated
        (b'{"taskId":"x","payload":{}} trailing', "body"),
        (b"", "body"),  # empty body
        (b"   \n", "body"),  # whitespace only
        (b"null", "body"),
        (b"[]", "body"),
        (b'"just a string"', "body"),
    ],
    ids=lambda value: value[:40].decode("utf-8", "replace") if isinstance(value, bytes) else value,
)
def test_bad_encodings_and_bad_json_are_400_saying_why(
    api_cloud: LocalCloudProcess, body: bytes, says: str
) -> None:
    # Given a body that is not valid UTF-8, not strict JSON, or not a JSON object
    # When it is posted as application/json  Then it is a JSON 400 saying what is wrong
    assert_rejected(send(api_cloud.tasks_endpoint, body=body, headers=JSON), 400, says=says)


# -- the taskId -------------------------------------------------------------------------------

HOSTILE_TASK_IDS = {
    "unicode letter": "tâche",
    "emoji": "task-\U0001f600",
    "zero-width joiner": "a\u200db",
    "right-to-left override": "a\u202eb",
    "full-width digit": "\uff11",
    "space": "a b",
    "leading space": " a",
    "tab": "a\tb",
    "trailing newline": "abc\n",
    "CRLF": "a\r\nb",
    "slash": "a/b",
    "backslash": "a\\b",
    "dot-dot": "..",
    "NUL": "a\x00b",
    "escape": "a\x1bb",
    "DEL": "a\x7fb",
    "colon": "a:b",
    "percent": "a%2Fb",
    "81 characters": "x" * 81,
    "empty": "",
}


@pytest.mark.parametrize("case", sorted(HOSTILE_TASK_IDS))
def test_hostile_task_ids_are_refused_on_submit(api_cloud: LocalCloudProcess, case: str) -> None:
    # Given a taskId outside 1-80 characters of A-Z a-z 0-9 _ - (see `case`)
    task_id = HOSTILE_TASK_IDS[case]
    # When it is submitted
    answer = post_json(api_cloud, {"taskId": task_id, "payload": {}})
    # Then the function refuses it with a JSON 400 that names the taskId and the rule
    body = assert_rejected(answer, 400)
    assert [e["field"] for e in body["errors"]] == ["taskId"], body
    assert "1-80 characters" in body["errors"][0]["message"], body


@pytest.mark.parametrize("case", sorted(set(HOSTILE_TASK_IDS) - {"empty"}))
def test_hostile_task_ids_are_refused_on_read(api_cloud: LocalCloudProcess, case: str) -> None:
    # Given the same taskIds, percent-encoded into the path of GET /tasks/{taskId}
    path = quote(HOSTILE_TASK_IDS[case], safe="")
    # When they are read  Then the function answers a JSON 400 naming the taskId
    answer = send(f"{api_cloud.tasks_endpoint}/{path}", "GET")
    assert_rejected(answer, 400, says="taskId")


def test_a_path_outside_the_routes_is_api_gateways_403(api_cloud: LocalCloudProcess) -> None:
    # Given a raw (unencoded) slash in the taskId, and an empty one: paths the API lacks
    for path in ("/a/b", "/", "//"):
        answer = send(f"{api_cloud.tasks_endpoint}{path}", "GET")
        # Then API Gateway's own 403 answers, as JSON, saying what the API offers
        body = assert_rejected(answer, 403)
        assert_offers_the_routes(body)


# -- types and shapes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"taskId": "n1", "payload": "123"}, "payload"),  # number as a string
        ({"taskId": "n2", "payload": 123}, "payload"),
        ({"taskId": 123, "payload": {}}, "taskId"),  # id as a number
        ({"taskId": "n3", "payload": None}, "payload"),
        ({"taskId": "n4", "payload": [1, 2]}, "payload"),
        ({"taskId": "n5", "payload": [{"a": 1}]}, "payload"),
        ({"taskId": "n6", "payload": True}, "payload"),
        ({"taskId": None, "payload": {}}, "taskId"),
        ({"taskId": ["n7"], "payload": {}}, "taskId"),
        ({"taskId": "n8"}, "payload"),
        ({"payload": {}}, "taskId"),
        ({"taskId": "n9", "payload": {}, "priority": "high"}, "priority"),
        ({}, "taskId"),
    ],
)
def test_wrong_types_and_shapes_are_400(
    api_cloud: LocalCloudProcess, document: dict[str, Any], field: str
) -> None:
    # Given a body whose `field` has the wrong type or presence
    # When it is posted
    answer = post_json(api_cloud, document)
    # Then it is the function's JSON 400, naming that field and why (not the gateway's
    # "Invalid request body": the gateway does not judge bodies)
    body = assert_rejected(answer, 400, says=field)
    assert body["message"] != "Invalid request body"
    assert all(error["message"] for error in body["errors"]), body


def test_numbers_as_strings_inside_the_payload_are_the_clients_business(
    api_cloud: LocalCloudProcess,
) -> None:
    # Given a payload object holding strings that look like numbers, null and arrays
    task_id = new_id("strings")
    document = {"taskId": task_id, "payload": {"n": "1", "x": None, "list": [1, "2", None]}}
    # Then it is a valid task, and it runs
    assert post_json(api_cloud, document).status == 202
    api_cloud.wait_for_status(task_id, "SUCCEEDED", timeout=90)


def test_unicode_payloads_are_kept_byte_for_byte_and_recognised_as_duplicates(
    api_cloud: LocalCloudProcess,
) -> None:
    # Given a payload of emoji, combining marks, right-to-left text and escaped controls
    task_id = new_id("unicode")
    payload = {
        "emoji": "\U0001f600\U0001f469\u200d\U0001f4bb",
        "é": "e\u0301",
        "rtl": "שלום",
        "c": "\x01\t",
    }
    assert post_json(api_cloud, {"taskId": task_id, "payload": payload}).status == 202
    # When the same task comes again with its keys reordered and other whitespace
    again = json.dumps({"payload": dict(reversed(payload.items())), "taskId": task_id}, indent=3)
    answer = send(api_cloud.tasks_endpoint, body=again.encode(), headers=JSON)
    # Then it is the same task (a duplicate, not a conflict), and it runs once
    assert answer.status == 200, answer.body
    assert answer.json()["taskId"] == task_id
    done = api_cloud.wait_for_status(task_id, "SUCCEEDED", timeout=90)
    assert done["result"]["attempt"] == 1
    assert len(api_cloud.executions_named(task_id)) == 1


# -- methods and content types -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", ""),
        ("DELETE", ""),
        ("PATCH", ""),
        ("GET", ""),
        ("OPTIONS", ""),
        ("TRACE", ""),
        ("BREW", ""),
        ("POST", "/some-task"),
        ("PUT", "/some-task"),
        ("DELETE", "/some-task"),
    ],
)
def test_undefined_methods_get_api_gateways_403(
    api_cloud: LocalCloudProcess, method: str, path: str
) -> None:
    # Given a method the API does not define on the resource (API Gateway REST answers these
    # with 403 Missing Authentication Token, not 405)
    answer = send(f"{api_cloud.tasks_endpoint}{path}", method, b'{"taskId":"a","payload":{}}', JSON)
    # Then the answer is that 403, as JSON, with API Gateway's error type and the routes
    assert_offers_the_routes(assert_rejected(answer, 403))
    assert answer.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"


def test_head_gets_the_403_without_a_body(api_cloud: LocalCloudProcess) -> None:
    answer = send(api_cloud.tasks_endpoint, "HEAD")
    assert answer.status == 403 and answer.body == b""


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json-patch+json",
        "application/json; charset=latin-1",
        "application/json; charset=utf-16",
        "*/*",
        "json",
    ],
)
def test_a_non_json_content_type_is_415_naming_it(
    api_cloud: LocalCloudProcess, content_type: str | None
) -> None:
    # Given a valid JSON body sent with another (or no) content type
    headers = {} if content_type is None else {"Content-Type": content_type}
    body = json.dumps({"taskId": new_id("ct"), "payload": {}}).encode()
    # When it is posted  Then it is a JSON 415 naming the content type it got
    answer = assert_rejected(send(api_cloud.tasks_endpoint, body=body, headers=headers), 415)
    assert answer["contentType"] == content_type


@pytest.mark.parametrize("content_type", ["APPLICATION/JSON", "application/json; charset=UTF-8"])
def test_json_content_types_in_any_spelling_are_accepted(
    api_cloud: LocalCloudProcess, content_type: str
) -> None:
    # Media types and charsets are case-insensitive (RFC 9110)
    body = json.dumps({"taskId": new_id("ct-ok"), "payload": {}}).encode()
    answer = send(api_cloud.tasks_endpoint, body=body, headers={"Content-Type": content_type})
    assert answer.status == 202, answer.body


# -- headers and framing ---------------------------------------------------------------------------


def test_a_9_kb_header_is_served(api_cloud: LocalCloudProcess) -> None:
    # Given a large but ordinary header (a big cookie or token)
    headers = {**JSON, "X-Big": "a" * 9000}
    answer = send(f"{api_cloud.tasks_endpoint}/big-header", "GET", headers=headers)
    # Then the request is answered normally
    assert answer.status == 404


@pytest.mark.parametrize(
    "headers",
    [{"X-Huge": "a" * 70_000}, {f"X-H{i}": "v" for i in range(200)}],
    ids=["one 70 KB header", "200 headers"],
)
def test_oversized_headers_are_431_as_json(
    api_cloud: LocalCloudProcess, headers: dict[str, str]
) -> None:
    answer = send(api_cloud.tasks_endpoint, body=b"{}", headers={**JSON, **headers})
    assert_rejected(answer, 431)


def test_a_non_numeric_content_length_is_400_as_json(api_cloud: LocalCloudProcess) -> None:
    # Given a request whose Content-Length is not a number (sent byte by byte)
    parts = urlsplit(api_cloud.tasks_endpoint)
    request = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        "Content-Type: application/json\r\nContent-Length: ten\r\n\r\n{}"
    ).encode()
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as raw:
        raw.sendall(request)
        reply = raw.makefile("rb").read()
    head, _, body = reply.partition(b"\r\n\r\n")
    # Then it is a 400 with a JSON body
    assert head.split(b" ")[1] == b"400", reply[:200]
    assert json.loads(body)["message"]
