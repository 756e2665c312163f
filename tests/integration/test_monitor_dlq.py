"""monitor-dlq: dead-letter batches, their log records, the metric and the task record."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

import monitor_dlq
import submit_task
from lambda_support import aws


def _dead_letter_logs(log_records) -> list[dict[str, Any]]:
    return [r for r in log_records() if r["message"] == "Task dead-lettered"]


def _emf_documents(capsys) -> list[dict[str, Any]]:
    """The CloudWatch embedded-metric documents Powertools printed."""
    documents = []
    for line in capsys.readouterr().out.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict) and "_aws" in document:
            documents.append(document)
    return documents


def _dead_lettered_count(capsys) -> int:
    total = 0
    for document in _emf_documents(capsys):
        directive = document["_aws"]["CloudWatchMetrics"][0]
        assert directive["Namespace"] == "FaultTolerantBackend"
        names = [metric["Name"] for metric in directive["Metrics"]]
        if "DeadLetteredTasks" in names:
            assert (
                next(m for m in directive["Metrics"] if m["Name"] == "DeadLetteredTasks")["Unit"]
                == "Count"
            )
            value = document["DeadLetteredTasks"]
            total += sum(value) if isinstance(value, list) else value
    return total


@pytest.fixture
def submitted(cloud, api_event, call_api):
    def submit(task_id: str) -> None:
        task = {"taskId": task_id, "payload": {"customer": "acme", "amount": 42}}
        assert call_api(submit_task.handler, api_event(body=task)).status == 202

    return submit


def test_workflow_dead_letter_is_logged_counted_and_recorded(
    cloud, submitted, events, lambda_context, log_records, capsys
):
    # Given a task whose workflow sent it to the DLQ
    submitted("task-013")
    capsys.readouterr()
    event = events("sqs_dlq_workflow.json")
    # When the monitor handles the message
    result = monitor_dlq.handler(event, lambda_context)
    # Then one structured error record says what happened
    assert result == {"batchItemFailures": []}
    (logged,) = _dead_letter_logs(log_records)
    assert logged["level"] == "ERROR"
    assert logged["source"] == "workflow"
    assert logged["taskId"] == "task-013"
    assert logged["error"] == "PermanentTaskError"
    assert "ends in 3" in logged["cause"]
    assert logged["executionArn"].endswith(":execution:task-workflow:task-013")
    assert logged["failedAt"] == "2026-11-24T20:00:07.123Z"
    assert logged["messageId"] == event["Records"][0]["messageId"]
    # And the metric counts one dead-lettered task
    assert _dead_lettered_count(capsys) == 1
    # And the task record carries the dead letter
    dead_letter = cloud.item("task-013")["deadLetter"]["M"]
    assert dead_letter["source"] == {"S": "workflow"}
    assert dead_letter["error"] == {"S": "PermanentTaskError"}


def test_a_late_dead_letter_of_an_earlier_run_leaves_the_redriven_record_alone(
    cloud, submitted, events, lambda_context, log_records
):
    # Given a task that an operator has already redriven to a new run
    submitted("task-013")
    aws.table(cloud.table_name).update_item(
        Key={"taskId": "task-013"},
        UpdateExpression="SET executionName = :run",
        ExpressionAttributeValues={":run": "task-013-r1"},
    )
    # When the first run's dead letter arrives only now
    result = monitor_dlq.handler(events("sqs_dlq_workflow.json"), lambda_context)
    # Then it is logged, and the new run's record is not marked failed
    assert result == {"batchItemFailures": []}
    (logged,) = _dead_letter_logs(log_records)
    assert logged["taskId"] == "task-013"
    assert "deadLetter" not in cloud.item("task-013")


def test_intake_dead_letter_is_logged_and_the_task_shows_failed(
    cloud, submitted, events, lambda_context, log_records, capsys, api_event, call_api
):
    # Given a task the starter never managed to start, moved to the DLQ by SQS
    import get_task

    submitted("task-021")
    capsys.readouterr()
    event = events("sqs_dlq_intake.json")
    # When the monitor handles the message
    result = monitor_dlq.handler(event, lambda_context)
    # Then it is logged as an intake dead letter with its taskId and receive count
    assert result == {"batchItemFailures": []}
    (logged,) = _dead_letter_logs(log_records)
    assert logged["source"] == "intake"
    assert logged["taskId"] == "task-021"
    assert logged["error"] == "StartExecutionFailed"
    assert "7 receives" in logged["cause"]
    assert logged.get("executionArn") is None  # Powertools leaves out keys whose value is None
    assert logged["sourceQueueArn"].endswith(":task-queue")
    assert _dead_lettered_count(capsys) == 1
    # And GET /tasks reports it FAILED with that error
    status = call_api(get_task.handler, api_event("GET", "task-021")).body
    assert status["status"] == "FAILED"
    assert status["error"] == "StartExecutionFailed"


def test_malformed_messages_are_logged_without_task_id_and_never_fail(
    cloud, events, lambda_context, log_records, capsys
):
    # Given DLQ messages that are not tasks at all
    event = events("sqs_dlq_malformed.json")
    # When the monitor handles them
    result = monitor_dlq.handler(event, lambda_context)
    # Then none fails (that would loop), each is logged with a null taskId, and counted
    assert result == {"batchItemFailures": []}
    logged = _dead_letter_logs(log_records)
    assert [r["messageId"] for r in logged] == [r["messageId"] for r in event["Records"]]
    assert all(r.get("taskId") is None and r["error"] == "MalformedTaskMessage" for r in logged)
    assert all("not a task" in r["cause"] for r in logged)
    assert all(r["source"] == "intake" for r in logged)
    assert _dead_lettered_count(capsys) == 2


def test_dead_letter_of_an_unknown_task_is_still_logged(
    cloud, events, lambda_context, log_records, capsys
):
    # Given a workflow dead letter for a task with no record (expired, say)
    event = events("sqs_dlq_workflow.json")
    # When the monitor handles it
    result = monitor_dlq.handler(event, lambda_context)
    # Then it is logged and counted, nothing fails, and no record is invented
    assert result == {"batchItemFailures": []}
    assert [r["taskId"] for r in _dead_letter_logs(log_records)] == ["task-013"]
    assert _dead_lettered_count(capsys) == 1
    assert cloud.item("task-013") is None


# The failed attempt publishes no metric at all, which Powertools warns about: expected here.
@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_a_table_error_retries_the_record_and_reports_the_dead_letter_once(
    cloud, submitted, events, lambda_context, log_records, monkeypatch, capsys
):
    # Given a tasks table that fails once
    submitted("task-013")
    capsys.readouterr()
    table = aws.table(cloud.table_name)
    working = table.update_item

    def failing(**_: Any) -> Any:
        error: Any = {
            "Error": {"Code": "InternalServerError"},
            "ResponseMetadata": {"HTTPStatusCode": 500},
        }
        raise ClientError(error, "UpdateItem")

    monkeypatch.setattr(table, "update_item", failing)
    event = events("sqs_dlq_workflow.json")
    # When the monitor handles a dead letter
    result = monitor_dlq.handler(event, lambda_context)
    # Then the record fails so that it is retried, with a warning that says so, and the dead
    # letter is neither logged as dead-lettered nor counted yet
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    (warning,) = [
        r for r in log_records() if r["message"].startswith("Could not mark the task record")
    ]
    assert warning["level"] == "WARNING"
    assert warning["taskId"] == "task-013"
    assert _dead_letter_logs(log_records) == []
    assert _dead_lettered_count(capsys) == 0
    # When the table recovers and SQS delivers the message again
    monkeypatch.setattr(table, "update_item", working)
    result = monitor_dlq.handler(event, lambda_context)
    # Then the record is marked, and the dead letter is logged and counted exactly once
    assert result == {"batchItemFailures": []}
    assert [r["taskId"] for r in _dead_letter_logs(log_records)] == ["task-013"]
    assert _dead_lettered_count(capsys) == 1
    assert cloud.item("task-013")["deadLetter"]["M"]["error"] == {"S": "PermanentTaskError"}


def test_a_mixed_batch_logs_each_task(cloud, submitted, events, lambda_context, log_records):
    # Given a batch with both shapes and a malformed message
    submitted("task-021")
    records = [
        *events("sqs_dlq_workflow.json")["Records"],
        *events("sqs_dlq_intake.json")["Records"],
        *events("sqs_dlq_malformed.json")["Records"][:1],
    ]
    # When the monitor handles it
    result = monitor_dlq.handler({"Records": records}, lambda_context)
    # Then each message gives one record, with its own taskId
    assert result == {"batchItemFailures": []}
    logged = _dead_letter_logs(log_records)
    assert [(r["source"], r.get("taskId")) for r in logged] == [
        ("workflow", "task-013"),
        ("intake", "task-021"),
        ("intake", None),
    ]
