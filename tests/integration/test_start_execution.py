"""start-execution: task-queue batches against moto's SQS and Step Functions.

The events are built from messages really sent to and received from the moto queue, so
receipt handles, receive counts and visibility changes are SQS's own.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

import start_execution
from lambda_support import aws
from task_domain.models import canonical_json

TASKS = [
    {"taskId": "task-001", "payload": {"customer": "acme", "amount": 42}},
    {"taskId": "task-002", "payload": {"customer": "globex", "amount": 7}},
]


@pytest.fixture
def deliver(cloud, sqs_event_of, lambda_context):
    """Send bodies to the task queue, receive them and hand the batch to the starter."""

    def run(bodies: list[str], receives: int = 1) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        for body in bodies:
            cloud.sqs.send_message(QueueUrl=cloud.queue_url, MessageBody=body)
        for _ in range(receives):
            # Visible again at once, so the test can look at it (and receive it again).
            messages = cloud.sqs.receive_message(
                QueueUrl=cloud.queue_url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=0,
                AttributeNames=["All"],
            )["Messages"]
        result = start_execution.handler(sqs_event_of(messages), lambda_context)
        return result, messages

    return run


def _visible_ids(cloud) -> set[str]:
    messages = cloud.sqs.receive_message(
        QueueUrl=cloud.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
    ).get("Messages", [])
    return {message["MessageId"] for message in messages}


def test_the_example_event_starts_one_named_execution_per_record(cloud, events, lambda_context):
    # Given the example batch of two tasks
    event = events("sqs_task_queue_batch.json")
    # When the starter handles it
    result = start_execution.handler(event, lambda_context)
    # Then both succeed, each with an execution named after its taskId and its task as input
    assert result == {"batchItemFailures": []}
    executions = {e["name"]: e for e in cloud.executions()}
    assert set(executions) == {"task-001", "task-002"}
    described = cloud.sfn.describe_execution(executionArn=executions["task-001"]["executionArn"])
    assert json.loads(described["input"]) == TASKS[0]


def test_duplicate_delivery_starts_no_second_execution(cloud, deliver):
    # Given a task that was started
    body = canonical_json(TASKS[0])
    first, _ = deliver([body])
    # When the same message is delivered again
    second, _ = deliver([body])
    # Then the record is done and there is still one execution
    assert first == second == {"batchItemFailures": []}
    assert [e["name"] for e in cloud.executions()] == ["task-001"]


def test_execution_already_exists_means_done(cloud, deliver, log_records):
    # Given a task whose execution already ended (Step Functions answers ExecutionAlreadyExists)
    body = canonical_json(TASKS[0])
    deliver([body])
    cloud.sfn.stop_execution(executionArn=cloud.executions()[0]["executionArn"])
    # When its message is delivered again
    result, _ = deliver([body])
    # Then the record is done, and no new execution started
    assert result == {"batchItemFailures": []}
    assert len(cloud.executions()) == 1
    assert any(r["message"].startswith("Execution already exists") for r in log_records())


def _throttle(task_id: str, monkeypatch, error: Exception | None = None) -> None:
    """Make StartExecution fail for one task, as a throttled Step Functions would."""
    sfn = aws.stepfunctions()
    real_start = sfn.start_execution

    def start(**kwargs: Any) -> Any:
        if kwargs["name"] == task_id:
            response: Any = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}
            throttled = ClientError(response, "StartExecution")
            raise error or throttled
        return real_start(**kwargs)

    monkeypatch.setattr(sfn, "start_execution", start)


def test_throttling_fails_only_that_record_and_hides_it_longer(
    cloud, deliver, monkeypatch, log_records
):
    # Given a batch of two tasks and StartExecution throttled for the second
    _throttle("task-002", monkeypatch)
    # When the starter handles it
    result, messages = deliver([canonical_json(task) for task in TASKS])
    # Then only the throttled record is reported, the other task started
    by_task = {json.loads(m["Body"])["taskId"]: m["MessageId"] for m in messages}
    assert result == {"batchItemFailures": [{"itemIdentifier": by_task["task-002"]}]}
    assert [e["name"] for e in cloud.executions()] == ["task-001"]
    # And the throttled message is hidden (base backoff) while the other is visible at once
    assert _visible_ids(cloud) == {by_task["task-001"]}
    backoff = [r for r in log_records() if r.get("visibilityTimeout") is not None]
    assert [(r["taskId"], r["error"], r["visibilityTimeout"]) for r in backoff] == [
        ("task-002", "ThrottlingException", 5)
    ]


def _visibility_changes(monkeypatch) -> list[int]:
    """The VisibilityTimeout of every ChangeMessageVisibility the starter sends (still sent)."""
    changes: list[int] = []
    sqs = aws.sqs()
    real_change = sqs.change_message_visibility

    def change(**kwargs: Any) -> Any:
        changes.append(kwargs["VisibilityTimeout"])
        return real_change(**kwargs)

    monkeypatch.setattr(sqs, "change_message_visibility", change)
    return changes


def test_backoff_grows_with_the_receive_count(cloud, deliver, monkeypatch):
    # Given a throttled task received for the third time
    _throttle("task-001", monkeypatch)
    changes = _visibility_changes(monkeypatch)
    # When the starter fails to start it
    result, messages = deliver([canonical_json(TASKS[0])], receives=3)
    # Then its visibility is set to base * 2**(3-1) seconds
    assert messages[0]["Attributes"]["ApproximateReceiveCount"] == "3"
    assert result["batchItemFailures"] == [{"itemIdentifier": messages[0]["MessageId"]}]
    assert changes == [20]


def test_backoff_is_capped(cloud, deliver, monkeypatch):
    # Given a low cap and a throttled task received many times
    monkeypatch.setenv("START_BACKOFF_MAX_SECONDS", "30")
    _throttle("task-001", monkeypatch)
    changes = _visibility_changes(monkeypatch)
    # When the starter fails to start it on its fifth receive
    deliver([canonical_json(TASKS[0])], receives=5)
    # Then the timeout stops at the cap
    assert changes == [30]


def test_connection_errors_fail_the_record_and_back_off(cloud, deliver, monkeypatch):
    # Given Step Functions unreachable for one task
    error = EndpointConnectionError(endpoint_url="https://states.us-east-1.amazonaws.com")
    _throttle("task-001", monkeypatch, error=error)
    # When the starter handles it
    result, messages = deliver([canonical_json(TASKS[0])])
    # Then the record fails and stays hidden
    assert result == {"batchItemFailures": [{"itemIdentifier": messages[0]["MessageId"]}]}
    assert _visible_ids(cloud) == set()


def test_every_record_failing_is_still_a_partial_response(cloud, deliver, monkeypatch):
    # Given a batch where every record is throttled
    _throttle("task-001", monkeypatch)
    # When the starter handles it
    result, messages = deliver([canonical_json(TASKS[0])])
    # Then it answers with the failures instead of raising (no function error)
    assert result == {"batchItemFailures": [{"itemIdentifier": messages[0]["MessageId"]}]}


def test_malformed_records_are_reported_and_logged(cloud, events, lambda_context, log_records):
    # Given a batch with a truncated body and a body with an invalid taskId
    event = events("sqs_task_queue_malformed.json")
    # When the starter handles it
    result = start_execution.handler(event, lambda_context)
    # Then both fail (the queue's redrive will move them), nothing started, each logged
    assert result == {
        "batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]
    }
    assert cloud.executions() == []
    logged = [r for r in log_records() if r["message"].startswith("Malformed task message")]
    assert [r["messageId"] for r in logged] == [r["messageId"] for r in event["Records"]]
    assert all(r["level"] == "ERROR" and r["problems"] for r in logged)


def test_logs_carry_the_task_id(cloud, events, lambda_context, log_records):
    # Given the example batch
    # When the starter handles it
    start_execution.handler(events("sqs_task_queue_batch.json"), lambda_context)
    # Then each start is logged with its taskId, and the key does not leak between records
    started = [r for r in log_records() if r["message"] == "Execution started"]
    assert [r["taskId"] for r in started] == ["task-001", "task-002"]
    assert all(r["executionArn"].endswith(r["taskId"]) for r in started)
