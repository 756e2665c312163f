"""From a task record and a DescribeExecution answer to what GET /tasks (and ftb) shows."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from task_domain.models import TaskStatus
from task_domain.records import DeadLetterNote, TaskRecord
from task_domain.status import view_from_execution, view_without_execution

ARN = "arn:aws:states:us-east-1:123456789012:execution:task-workflow:task-001"
STARTED = datetime(2026, 11, 24, 20, 0, 0, tzinfo=UTC)
STOPPED = datetime(2026, 11, 24, 20, 0, 5, tzinfo=UTC)


def _record(**changes) -> TaskRecord:
    return TaskRecord.new("task-001", "d" * 64, STARTED).model_copy(update=changes)


def test_running():
    view = view_from_execution(_record(), ARN, {"status": "RUNNING", "startDate": STARTED})
    assert view.body() == {
        "taskId": "task-001",
        "status": "RUNNING",
        "submittedAt": "2026-11-24T20:00:00.000Z",
        "executionArn": ARN,
        "startDate": "2026-11-24T20:00:00.000Z",
    }


def test_pending_redrive_is_running():
    assert view_from_execution(_record(), ARN, {"status": "PENDING_REDRIVE"}).status == "RUNNING"


def test_succeeded_carries_the_parsed_output():
    execution = {
        "status": "SUCCEEDED",
        "startDate": STARTED,
        "stopDate": STOPPED,
        "output": '{"taskId": "task-001", "attempt": 2}',
    }
    view = view_from_execution(_record(), ARN, execution)
    assert view.status is TaskStatus.SUCCEEDED
    assert view.result == {"taskId": "task-001", "attempt": 2}
    assert view.body()["stopDate"] == "2026-11-24T20:00:05.000Z"
    assert "error" not in view.body()


@pytest.mark.parametrize(
    ("execution", "error", "cause"),
    [
        (
            {"status": "FAILED", "error": "TransientTaskError", "cause": "3 attempts"},
            "TransientTaskError",
            "3 attempts",
        ),
        ({"status": "TIMED_OUT"}, "States.Timeout", "The execution timed out."),
        ({"status": "ABORTED"}, "States.Aborted", "The execution was stopped."),
        ({"status": "ABORTED", "error": "Operator", "cause": "manual"}, "Operator", "manual"),
    ],
)
def test_every_unsuccessful_end_is_failed_with_error_and_cause(execution, error, cause):
    view = view_from_execution(_record(), ARN, execution)
    assert (view.status, view.error, view.cause) == (TaskStatus.FAILED, error, cause)
    assert "result" not in view.body()


def test_the_body_gives_callers_the_error_and_a_message_never_the_cause():
    # Given a run that failed with a Lambda error whose cause holds a stack trace
    cause = json.dumps(
        {
            "errorMessage": "Task task-013 cannot be processed (its id ends in 3)",
            "errorType": "PermanentTaskError",
            "stackTrace": ['  File "/var/task/process_task.py", line 29, in handler\n'],
        }
    )
    execution = {"status": "FAILED", "error": "PermanentTaskError", "cause": cause}
    # When the API body is made
    body = view_from_execution(_record(), ARN, execution).body()
    # Then it names the error and the task's message, and holds no cause
    assert body["error"] == "PermanentTaskError"
    assert body["message"] == "Task task-013 cannot be processed (its id ends in 3)"
    assert "cause" not in body and "/var/task" not in json.dumps(body)


def test_no_execution_is_queued():
    view = view_without_execution(_record())
    assert view.body() == {
        "taskId": "task-001",
        "status": "QUEUED",
        "submittedAt": "2026-11-24T20:00:00.000Z",
    }


def test_no_execution_but_a_dead_letter_is_failed():
    note = DeadLetterNote(source="intake", error="StartExecutionFailed", cause="why", at="t")
    view = view_without_execution(_record(dead_letter=note))
    assert (view.status, view.error, view.cause) == (
        TaskStatus.FAILED,
        "StartExecutionFailed",
        "why",
    )


def test_a_new_record_reserves_the_name_for_90_days():
    record = _record()
    assert record.execution_name == "task-001"
    assert record.enqueued is False
    assert record.expires_at - int(STARTED.timestamp()) == 90 * 24 * 3600


class _NoExecutions:
    """A Step Functions client that knows no execution."""

    def describe_execution(self, executionArn: str) -> dict:
        from botocore.exceptions import ClientError

        error = {"Error": {"Code": "ExecutionDoesNotExist", "Message": executionArn}}
        raise ClientError(error, "DescribeExecution")  # type: ignore[arg-type]


def test_ftb_shows_a_task_dead_lettered_at_intake_as_get_task_does():
    # Given a task dead-lettered before any execution existed
    note = DeadLetterNote(
        source="intake", error="StartExecutionFailed", cause="why", at="2026-11-24T20:00:05.000Z"
    )
    record = _record(dead_letter=note)
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:task-workflow"
    # When get-task's view and ftb's task state are both read
    from ftb.ops.tasks import task_state

    view = view_without_execution(record)
    state = task_state(_NoExecutions(), machine, record)
    # Then they agree on status, error, cause and when it stopped (the dead letter's time)
    assert (state.status, state.error, state.cause) == (view.status, view.error, view.cause)
    assert state.stop_date == STOPPED
    assert state.to_json()["stopDate"] == view.stop_date
