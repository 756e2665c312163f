"""get-task: GET /tasks/{taskId} against a moto table and moto's executing Step Functions.

The executions are real runs of moto's ASL engine (a stand-in definition that succeeds,
fails, waits or times out depending on the task's payload), so every status comes from an
actual DescribeExecution answer, not a stub.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

import get_task
import submit_task
from lambda_support import aws
from task_domain import records
from task_domain.models import canonical_json

RESULT = {"taskId.$": "$.taskId", "payloadDigest": "0" * 64, "attempt": 1, "processedAt": "t"}
PERMANENT_CAUSE = json.dumps(
    {
        "errorMessage": "Task cannot be processed (its id ends in 3)",
        "errorType": "PermanentTaskError",
        "requestId": "5f0c3a1e-0000-4000-8000-000000000000",
        "stackTrace": [
            '  File "/var/task/task_domain/processing.py", line 36, in process\n'
            '    raise PermanentTaskError(f"Task {task.task_id} cannot be processed")\n'
        ],
    }
)
# Chooses the outcome from the payload, so one state machine gives every status.
DEFINITION = json.dumps(
    {
        "TimeoutSeconds": 1,
        "StartAt": "Outcome",
        "States": {
            "Outcome": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.payload.outcome", "StringEquals": "fail", "Next": "Fail"},
                    {"Variable": "$.payload.outcome", "StringEquals": "wait", "Next": "Wait"},
                ],
                "Default": "Succeed",
            },
            "Succeed": {"Type": "Pass", "Parameters": RESULT, "End": True},
            "Fail": {"Type": "Fail", "Error": "PermanentTaskError", "Cause": PERMANENT_CAUSE},
            "Wait": {"Type": "Wait", "Seconds": 30, "End": True},
        },
    }
)


# The same machine without the 1-second limit: an execution that must still run when its
# status is read, however long a loaded machine takes to get there.
UNLIMITED_DEFINITION = json.dumps({**json.loads(DEFINITION), "TimeoutSeconds": 300})


@pytest.fixture
def cloud(executing_cloud, request):
    return executing_cloud(getattr(request, "param", DEFINITION))


@pytest.fixture
def submitted(cloud, api_event, call_api) -> Callable[..., dict[str, Any]]:
    """Submit a task through submit-task; optionally start its execution as the starter does."""

    def submit(task_id: str, outcome: str | None = None, start: bool = False) -> dict[str, Any]:
        task = {"taskId": task_id, "payload": {"outcome": outcome} if outcome else {}}
        assert call_api(submit_task.handler, api_event(body=task)).status == 202
        if start:
            cloud.sfn.start_execution(
                stateMachineArn=cloud.state_machine_arn, name=task_id, input=canonical_json(task)
            )
        return task

    return submit


def _wait_until_stopped(cloud, task_id: str) -> None:
    arn = cloud.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{task_id}"
    deadline = time.monotonic() + 60  # bounds the wait only (a loaded 2-core CI)
    while cloud.sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
        assert time.monotonic() < deadline, "execution did not stop"
        time.sleep(0.05)


def _wait_until_waiting(cloud, arn: str) -> None:
    # moto's engine thread sets up an execution after StartExecution returns; stopping it
    # before then fails inside moto, so wait until the execution is in its Wait state.
    deadline = time.monotonic() + 60  # bounds the wait only (a loaded 2-core CI)
    while not any(
        event["type"] == "WaitStateEntered"
        for event in cloud.sfn.get_execution_history(executionArn=arn)["events"]
    ):
        assert time.monotonic() < deadline, "execution never reached its Wait state"
        time.sleep(0.02)


def test_queued_when_no_execution_started_yet(submitted, api_event, call_api):
    # Given a task accepted but not started
    submitted("task-001")
    # When its status is asked for
    response = call_api(get_task.handler, api_event("GET", "task-001"))
    # Then it is QUEUED, with its submission time
    assert response.status == 200
    assert response.body["taskId"] == "task-001"
    assert response.body["status"] == "QUEUED"
    assert response.body["submittedAt"].endswith("Z")
    assert "executionArn" not in response.body


@pytest.mark.parametrize("cloud", [UNLIMITED_DEFINITION], ids=["no-time-limit"], indirect=True)
def test_running_while_the_execution_runs(cloud, submitted, api_event, call_api):
    # Given a task whose execution is running
    submitted("task-002", outcome="wait", start=True)
    arn = cloud.state_machine_arn.replace(":stateMachine:", ":execution:") + ":task-002"
    # When its status is asked for
    response = call_api(get_task.handler, api_event("GET", "task-002"))
    # Then it is RUNNING, with the execution's ARN and start
    assert response.body["status"] == "RUNNING"
    assert response.body["executionArn"] == arn
    assert response.body["startDate"]
    assert "stopDate" not in response.body
    _wait_until_waiting(cloud, arn)  # no execution outlives its test
    cloud.sfn.stop_execution(executionArn=arn)


def test_succeeded_with_the_result(cloud, submitted, api_event, call_api):
    # Given a task whose execution succeeded
    submitted("task-004", start=True)
    _wait_until_stopped(cloud, "task-004")
    # When its status is asked for
    response = call_api(get_task.handler, api_event("GET", "task-004"))
    # Then it is SUCCEEDED with the execution's output as result
    assert response.body["status"] == "SUCCEEDED"
    assert response.body["result"]["taskId"] == "task-004"
    assert response.body["result"]["attempt"] == 1
    assert response.body["stopDate"]
    assert "error" not in response.body


def test_failed_with_error_and_a_message_for_the_caller(cloud, submitted, api_event, call_api):
    # Given a task whose execution failed (its cause: Lambda's error JSON, stack trace included)
    submitted("task-013", outcome="fail", start=True)
    _wait_until_stopped(cloud, "task-013")
    # When its status is asked for
    response = call_api(get_task.handler, api_event("GET", "task-013"))
    # Then it is FAILED with the error name and the task's own message, and no cause
    assert response.body["status"] == "FAILED"
    assert response.body["error"] == "PermanentTaskError"
    assert response.body["message"] == "Task cannot be processed (its id ends in 3)"
    assert "cause" not in response.body and "result" not in response.body
    # ... and nothing of how it failed: no stack trace, no file path, no code line
    text = json.dumps(response.body)
    assert "stackTrace" not in text and "/var/task" not in text and "line 36" not in text


def test_timed_out_is_failed(cloud, submitted, api_event, call_api):
    # Given a task whose execution timed out (the definition allows 1 second)
    submitted("task-005", outcome="wait", start=True)
    _wait_until_stopped(cloud, "task-005")
    # When its status is asked for
    response = call_api(get_task.handler, api_event("GET", "task-005"))
    # Then it is FAILED with the timeout named
    assert response.body["status"] == "FAILED"
    assert response.body["error"] == "States.Timeout"


def test_aborted_is_failed(cloud, submitted, api_event, call_api):
    # Given a task whose execution an operator stopped
    submitted("task-006", outcome="wait", start=True)
    arn = cloud.state_machine_arn.replace(":stateMachine:", ":execution:") + ":task-006"
    _wait_until_waiting(cloud, arn)
    cloud.sfn.stop_execution(executionArn=arn)
    # (moto's engine applies the stop on its own thread: wait until it reports it)
    deadline = time.monotonic() + 60
    while cloud.sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the stop never took effect"
        time.sleep(0.02)
    # When its status is asked for
    response = call_api(get_task.handler, api_event("GET", "task-006"))
    # Then it is FAILED as aborted
    assert response.body["status"] == "FAILED"
    assert response.body["error"] == "States.Aborted"


def test_failed_when_dead_lettered_before_starting(cloud, submitted, api_event, call_api):
    # Given a task that never got an execution and that monitor-dlq marked dead-lettered
    submitted("task-007")
    note = records.DeadLetterNote(
        source="intake", error="StartExecutionFailed", cause="moved after 10 receives", at="t"
    )
    assert records.record_dead_letter(aws.table(cloud.table_name), "task-007", note, "task-007")
    # When its status is asked for
    response = call_api(get_task.handler, api_event("GET", "task-007"))
    # Then it is FAILED with the dead letter's error and a message for the caller
    assert response.body["status"] == "FAILED"
    assert response.body["error"] == "StartExecutionFailed"
    assert response.body["message"] == (
        "The task could not be started; it was set aside for an operator to run again."
    )
    assert "receives" not in json.dumps(response.body)


def test_a_redrive_reservation_is_not_a_task(cloud, submitted, api_event, call_api):
    # Given task-0079 and the placeholder record `ftb redrive` writes (through the domain) to
    # hold the name of the task's second run
    submitted("task-0079")
    records.reserve_name(aws.table(cloud.table_name), "task-0079-r1", "task-0079")
    assert cloud.item("task-0079-r1")["reservedFor"] == {"S": "task-0079"}
    # When the reserved name is asked for as a task
    response = call_api(get_task.handler, api_event("GET", "task-0079-r1"))
    # Then it is unknown (404), while the task itself still answers
    assert response.status == 404
    assert response.body["message"] == "Task not found"
    assert call_api(get_task.handler, api_event("GET", "task-0079")).status == 200


def test_unknown_task_is_404(cloud, api_event, call_api):
    # Given no task with this (valid, 80-character) id
    # When its status is asked for
    response = call_api(get_task.handler, api_event("GET", "a" * 80))
    # Then 404 with a JSON body
    assert response.status == 404
    assert response.body["message"] == "Task not found"


@pytest.mark.parametrize("task_id", ["a" * 81, "has.dot", "has space", "tâche", "task-😀", "a%2Fb"])
def test_invalid_task_id_is_400(cloud, api_event, call_api, task_id):
    # Given a taskId that no task can have
    # When its status is asked for
    response = call_api(get_task.handler, api_event("GET", task_id))
    # Then 400 naming the taskId
    assert response.status == 400
    assert response.body["errors"][0]["field"] == "taskId"


def test_nested_path_is_404(cloud, api_event, call_api):
    # Given a path below a task (no API Gateway resource matches it, so no taskId parameter)
    event = api_event("GET", path="/tasks/task-001/extra")
    event["pathParameters"] = None
    # When it is requested
    response = call_api(get_task.handler, event)
    # Then 404 with a JSON body
    assert response.status == 404


def test_step_functions_throttling_is_503(cloud, submitted, api_event, call_api, monkeypatch):
    # Given a task and a throttled Step Functions API
    submitted("task-008")

    def throttled(**_: Any) -> Any:
        error: Any = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}
        raise ClientError(error, "DescribeExecution")

    monkeypatch.setattr(aws.stepfunctions(), "describe_execution", throttled)
    # When its status is asked for
    response = call_api(get_task.handler, api_event("GET", "task-008"))
    # Then the client is told to retry later
    assert response.status == 503
    assert response.headers["retry-after"]
