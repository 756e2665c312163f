"""submit-task: POST /tasks against a moto tasks table and task queue."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

import submit_task
from lambda_support import aws
from task_domain import records
from task_domain.models import MAX_WORKFLOW_INPUT_BYTES, canonical_json, payload_digest

TASK: dict[str, Any] = {"taskId": "task-001", "payload": {"customer": "acme", "amount": 42}}


def _payload_of_size(task_id: str, size: int) -> dict[str, Any]:
    """A payload whose workflow input is exactly `size` bytes."""
    overhead = len(canonical_json({"payload": {"data": ""}, "taskId": task_id}).encode())
    return {"data": "x" * (size - overhead)}


def test_accepts_a_new_task_records_and_queues_it(cloud, api_event, call_api):
    # Given a valid task from the event file
    event = api_event()
    # When it is submitted
    response = call_api(submit_task.handler, event)
    # Then it is accepted, recorded as enqueued, and its workflow input is on the queue
    assert response.status == 202
    assert response.body == {"taskId": "task-001", "status": "QUEUED"}
    item = cloud.item("task-001")
    assert item is not None
    assert item["status"] == {"S": "QUEUED"}
    assert item["executionName"] == {"S": "task-001"}
    assert item["enqueued"] == {"BOOL": True}
    assert item["payloadDigest"] == {"S": payload_digest(TASK["payload"])}
    assert int(item["expiresAt"]["N"]) > 0
    assert cloud.queued_bodies() == [canonical_json(TASK)]


def test_duplicate_submission_is_idempotent(cloud, api_event, call_api):
    # Given an accepted task
    assert call_api(submit_task.handler, api_event(body=TASK)).status == 202
    # When the same task is submitted again (keys in another order)
    again = {"payload": {"amount": 42, "customer": "acme"}, "taskId": "task-001"}
    response = call_api(submit_task.handler, api_event(body=again))
    # Then the answer is 200 with its current status, and nothing is queued twice
    assert response.status == 200
    assert response.body["taskId"] == "task-001"
    assert response.body["status"] == "QUEUED"
    assert len(cloud.queued_bodies()) == 1


def test_duplicate_reports_the_execution_status(cloud, api_event, call_api):
    # Given an accepted task whose execution has started
    call_api(submit_task.handler, api_event(body=TASK))
    cloud.sfn.start_execution(
        stateMachineArn=cloud.state_machine_arn, name="task-001", input=canonical_json(TASK)
    )
    # When it is submitted again
    response = call_api(submit_task.handler, api_event(body=TASK))
    # Then the answer carries the execution's status
    assert response.status == 200
    assert response.body["status"] == "RUNNING"
    assert response.body["executionArn"].endswith(":execution:task-workflow:task-001")


def test_same_task_id_with_another_payload_is_a_conflict(cloud, api_event, call_api):
    # Given an accepted task
    call_api(submit_task.handler, api_event(body=TASK))
    before = cloud.item("task-001")
    # When the same taskId comes with another payload
    other = {"taskId": "task-001", "payload": {"customer": "acme", "amount": 43}}
    response = call_api(submit_task.handler, api_event(body=other))
    # Then 409, and the first task is untouched
    assert response.status == 409
    assert response.body["taskId"] == "task-001"
    assert "different payload" in response.body["message"]
    assert cloud.item("task-001") == before
    assert cloud.queued_bodies() == [canonical_json(TASK)]


def test_a_name_reserved_by_a_redrive_is_a_conflict(cloud, api_event, call_api):
    # Given the placeholder record `ftb redrive` writes (through the domain) to hold the name
    # of task-001's second run
    records.reserve_name(aws.table(cloud.table_name), "task-001-r1", "task-001")
    before = cloud.item("task-001-r1")
    # When a client submits a task under that name
    task = {"taskId": "task-001-r1", "payload": {}}
    response = call_api(submit_task.handler, api_event(body=task))
    # Then 409: nothing is queued and the reservation is untouched
    assert response.status == 409
    assert response.body["taskId"] == "task-001-r1"
    assert cloud.item("task-001-r1") == before
    assert cloud.queued_bodies() == []


def test_queue_failure_is_503_and_the_retry_queues_the_task(
    cloud, api_event, call_api, monkeypatch
):
    # Given a task queue that fails once
    sqs = aws.sqs()
    real_send = sqs.send_message
    calls = {"n": 0}

    def flaky_send(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise EndpointConnectionError(endpoint_url=cloud.queue_url)
        return real_send(**kwargs)

    monkeypatch.setattr(sqs, "send_message", flaky_send)
    # When the task is submitted
    first = call_api(submit_task.handler, api_event(body=TASK))
    # Then 503 with Retry-After, the task recorded but not marked enqueued
    assert first.status == 503
    assert int(first.headers["retry-after"]) > 0
    assert first.body["taskId"] == "task-001"
    assert cloud.item("task-001")["enqueued"] == {"BOOL": False}
    assert cloud.queued_bodies() == []
    # When the client retries the same request
    second = call_api(submit_task.handler, api_event(body=TASK))
    # Then the task is queued after all, exactly once
    assert second.status == 200
    assert second.body["status"] == "QUEUED"
    assert cloud.item("task-001")["enqueued"] == {"BOOL": True}
    assert cloud.queued_bodies() == [canonical_json(TASK)]


def test_table_throttling_is_503_not_a_crash(cloud, api_event, call_api, monkeypatch):
    # Given a throttled tasks table
    table = aws.table(cloud.table_name)

    def throttled(**_: Any) -> Any:
        error: Any = {"Error": {"Code": "ProvisionedThroughputExceededException"}}
        raise ClientError(error, "PutItem")

    monkeypatch.setattr(table, "put_item", throttled)
    # When a task is submitted
    response = call_api(submit_task.handler, api_event(body=TASK))
    # Then the client is told to retry
    assert response.status == 503
    assert response.headers["retry-after"]


def test_accepts_a_task_at_exactly_the_size_limit(cloud, api_event, call_api):
    # Given a task whose workflow input is exactly at the limit (256 KiB less 1 KiB)
    task = {"taskId": "big-task", "payload": _payload_of_size("big-task", MAX_WORKFLOW_INPUT_BYTES)}
    # When it is submitted
    response = call_api(submit_task.handler, api_event(body=task))
    # Then it is accepted and queued whole
    assert response.status == 202
    assert [len(body.encode()) for body in cloud.queued_bodies()] == [MAX_WORKFLOW_INPUT_BYTES]


def test_rejects_a_task_one_byte_over_the_limit_with_413(cloud, api_event, call_api):
    # Given a task one byte over the limit
    size = MAX_WORKFLOW_INPUT_BYTES + 1
    task = {"taskId": "big-task", "payload": _payload_of_size("big-task", size)}
    # When it is submitted
    response = call_api(submit_task.handler, api_event(body=task))
    # Then 413 naming the payload, and nothing recorded
    assert response.status == 413
    assert response.body["errors"][0]["field"] == "payload"
    assert cloud.item("big-task") is None


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"],
)
def test_rejects_non_json_content_types_with_415(cloud, api_event, call_api, content_type):
    # Given a valid body sent with a content type other than JSON
    event = api_event(body=TASK, content_type=content_type)
    # When it is submitted
    response = call_api(submit_task.handler, event)
    # Then 415, and nothing recorded
    assert response.status == 415
    assert cloud.item("task-001") is None


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "Application/JSON;charset=UTF-8"]
)
def test_accepts_json_with_a_utf8_charset(cloud, api_event, call_api, content_type):
    # Given a JSON content type with a charset parameter
    # When a task is submitted
    response = call_api(submit_task.handler, api_event(body=TASK, content_type=content_type))
    # Then it is accepted
    assert response.status == 202


def test_reads_the_content_type_header_case_insensitively(cloud, api_event, call_api):
    # Given a lowercase header name, as HTTP/2 clients send it
    event = api_event(body=TASK, content_type=None)
    event["headers"]["content-type"] = "application/json"
    event["multiValueHeaders"]["content-type"] = ["application/json"]
    # When it is submitted
    # Then it is accepted
    assert call_api(submit_task.handler, event).status == 202


def test_accepts_a_base64_encoded_body(cloud, api_event, call_api):
    # Given a body API Gateway passed base64-encoded
    body = base64.b64encode(json.dumps(TASK).encode()).decode()
    # When it is submitted
    response = call_api(submit_task.handler, api_event(body=body, base64=True))
    # Then it is decoded and accepted
    assert response.status == 202


@pytest.mark.parametrize(
    ("body", "base64_encoded", "field", "reason"),
    [
        (None, False, "body", "empty"),
        ("", False, "body", "empty"),
        ('{"taskId": "task-001", "payload": ', False, "body", "malformed JSON"),
        ('{"taskId": "a", "taskId": "b", "payload": {}}', False, "body", "duplicate key"),
        ('{"taskId": "t", "payload": {"x": NaN}}', False, "body", "NaN"),
        ('{"taskId": "t", "payload": {"x": 1e400}}', False, "body", "out of range"),
        ("[" * 100_000 + "]" * 100_000, False, "body", "nested too deeply"),
        ("not base64!", True, "body", "base64"),
        (base64.b64encode(b'{"taskId": "\xff"}').decode(), True, "body", "UTF-8"),
        ('{"payload": {}}', False, "taskId", "required"),
        ('{"taskId": 42, "payload": {}}', False, "taskId", "string"),
        ('{"taskId": "has space", "payload": {}}', False, "taskId", "1-80 characters"),
        ('{"taskId": "task-001"}', False, "payload", "required"),
        ('{"taskId": "task-001", "payload": [1]}', False, "payload", "JSON object"),
        ('{"taskId": "t", "payload": {}, "extra": 1}', False, "extra", "not permitted"),
        ('["taskId", "payload"]', False, "body", "JSON object"),
        ('{"taskId": "t", "payload": {"x": "\\ud800"}}', False, "payload", "surrogate"),
        ('{"taskId": "t", "payload": {"x": "\\uffff"}}', False, "payload", "U+FFFF"),
    ],
)
def test_client_mistakes_are_400_naming_the_field(
    cloud, api_event, call_api, body, base64_encoded, field, reason
):
    # Given a request with one mistake
    event = api_event(body=body, base64=base64_encoded)
    # When it is submitted
    response = call_api(submit_task.handler, event)
    # Then 400 with a JSON body that names the field and says why
    assert response.status == 400, response.body
    assert response.body["message"] == "Invalid request"
    assert any(
        error["field"] == field and reason in error["message"] for error in response.body["errors"]
    ), response.body
    assert cloud.queued_bodies() == []


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/tasks"), ("PUT", "/tasks"), ("POST", "/tasks/task-001")]
)
def test_unknown_routes_are_json_404(cloud, api_event, call_api, method, path):
    # Given a request for a route the function does not serve
    event = api_event(body=TASK, path=path)
    event["httpMethod"] = method
    # When it arrives
    response = call_api(submit_task.handler, event)
    # Then 404 with a JSON body
    assert response.status == 404
    assert response.body == {"message": "Not found"}


def test_logs_carry_the_task_id(cloud, api_event, call_api, log_records):
    # Given a valid task
    # When it is submitted
    call_api(submit_task.handler, api_event(body=TASK))
    # Then the acceptance is logged with its taskId and the API's request id
    accepted = [r for r in log_records() if r["message"] == "Task accepted"]
    assert accepted
    assert accepted[0]["taskId"] == "task-001"
    assert accepted[0]["correlation_id"] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


def test_a_request_without_any_headers_is_415(cloud, api_event, call_api):
    # Given a request whose event carries no headers at all
    event = api_event(body=TASK)
    event["headers"] = None
    event["multiValueHeaders"] = None
    # When it is submitted
    response = call_api(submit_task.handler, event)
    # Then 415 (no JSON content type), not a crash
    assert response.status == 415
