"""End to end on the real stack (`ftb local`, FAILURE_RATE=0): HTTP in, workflow, DLQ, logs."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.support.local_cloud import LocalCloudProcess, http, wait_for

# A hang guard only: a cold synth (cloud start-up) and every wait are bounded inside.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


def new_id(prefix: str, last_digit: str = "0") -> str:
    """A fresh taskId; its last character decides permanent failure (3) or not."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}{last_digit}"


def test_a_task_succeeds(cloud: LocalCloudProcess) -> None:
    # Given a task whose id does not end in 3, and no transient failures
    task_id = new_id("ok")

    # When it is submitted over HTTP
    accepted = cloud.submit(task_id, {"message": "hello"})

    # Then it is accepted, and its workflow runs it once to success
    assert accepted.status == 202, accepted.body
    assert accepted.json() == {"taskId": task_id, "status": "QUEUED"}
    done = cloud.wait_for_status(task_id, "SUCCEEDED")
    assert done["result"]["taskId"] == task_id
    assert done["result"]["attempt"] == 1
    types = [event["type"] for event in cloud.history(task_id)]
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"
    assert "TaskFailed" not in types


def test_a_task_ending_in_3_fails_is_dead_lettered_and_logged_by_the_monitor(
    cloud: LocalCloudProcess,
) -> None:
    # Given a task whose id ends in 3 (a permanent failure)
    task_id = new_id("doomed", last_digit="3")

    # When it is submitted
    assert cloud.submit(task_id).status == 202

    # Then the execution fails with the task's error, without a retry
    failed = cloud.wait_for_status(task_id, "FAILED")
    assert "PermanentTaskError" in str(failed)
    # ... which the caller reads as the error and the task's message: no stack trace, no path
    assert failed["error"] == "PermanentTaskError" and "ends in 3" in failed["message"]
    assert "cause" not in failed and "stackTrace" not in str(failed) and ".py" not in str(failed)
    history = cloud.history(task_id)
    # ... while the history, which operators read, keeps the whole cause
    assert "stackTrace" in json.dumps(history, default=str)
    assert [e["type"] for e in history].count("TaskScheduled") == 2  # ProcessTask + the DLQ send
    failure = next(e for e in history if e["type"] == "TaskFailed")
    assert failure["taskFailedEventDetails"]["error"] == "PermanentTaskError"
    assert history[-1]["type"] == "ExecutionFailed"

    # And the dead letter reached the DLQ, whose monitor logged one record for the task
    monitor_group = f"/aws/lambda/{cloud.function_name('monitor-dlq')}"

    def monitor_record() -> dict[str, object] | None:
        records = [r for r in cloud.json_logs(monitor_group) if r.get("taskId") == task_id]
        return records[0] if records else None

    record = wait_for(monitor_record, 120, "the monitor's record of the dead letter")
    assert record["source"] == "workflow"
    assert record["error"] == "PermanentTaskError"
    assert record["executionArn"] == cloud.execution_arn(task_id)
    assert record["message"] == "Task dead-lettered"


def test_a_duplicate_post_runs_one_execution(cloud: LocalCloudProcess) -> None:
    # Given an accepted task
    task_id = new_id("dup")
    assert cloud.submit(task_id, {"k": "v"}).status == 202

    # When the same task is posted again (a client retry)
    again = cloud.submit(task_id, {"k": "v"})

    # Then the answer is 200 with the task's current status (202 only ever means "accepted
    # now"), and only one execution ever runs
    assert again.status == 200, again.body
    assert again.json()["taskId"] == task_id
    assert again.json()["status"] in {"QUEUED", "RUNNING", "SUCCEEDED"}
    cloud.wait_for_status(task_id, "SUCCEEDED")
    finished = cloud.submit(task_id, {"k": "v"})
    assert (finished.status, finished.json()["status"]) == (200, "SUCCEEDED")
    assert len(cloud.executions_named(task_id)) == 1


def test_the_same_task_id_with_another_payload_is_a_conflict(cloud: LocalCloudProcess) -> None:
    # Given an accepted task
    task_id = new_id("conflict")
    assert cloud.submit(task_id, {"version": 1}).status == 202

    # When the same taskId comes with a different payload
    conflict = cloud.submit(task_id, {"version": 2})

    # Then it is refused with 409, and the first task runs untouched
    assert conflict.status == 409, conflict.body
    assert "message" in conflict.json()
    done = cloud.wait_for_status(task_id, "SUCCEEDED")
    first = cloud.client("stepfunctions").describe_execution(
        executionArn=cloud.execution_arn(task_id)
    )
    assert '"version":1' in first["input"].replace(" ", "")
    assert done["result"]["taskId"] == task_id


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b'{"taskId": "x", "payload": {', "malformed JSON"),
        (b'{"payload": {}}', "missing taskId"),
        (b'{"taskId": "x"}', "missing payload"),
        (b'{"taskId": 7, "payload": {}}', "taskId is not a string"),
        (b'{"taskId": "has space", "payload": {}}', "taskId has a forbidden character"),
        (b'{"taskId": "' + b"a" * 81 + b'", "payload": {}}', "taskId is 81 characters"),
        (b'{"taskId": "", "payload": {}}', "taskId is empty"),
        (b'{"taskId": "x", "payload": [1, 2]}', "payload is not an object"),
        (b'{"taskId": "x", "payload": {}, "extra": 1}', "an unknown field"),
        (b"[]", "the body is not an object"),
    ],
)
def test_client_mistakes_are_400_with_a_json_body(
    cloud: LocalCloudProcess, body: bytes, why: str
) -> None:
    # Given a malformed submission (see `why`)
    # When it is posted as JSON
    response = http(
        "POST", cloud.tasks_endpoint, raw=body, headers={"Content-Type": "application/json"}
    )

    # Then the API answers 400 with a JSON body that says what is wrong, never a 5xx
    assert response.status == 400, (why, response.body)
    assert response.json()["message"]


def test_a_non_json_content_type_is_415_and_an_oversized_task_413(
    cloud: LocalCloudProcess,
) -> None:
    # Given a text body, and a task whose workflow input exceeds 256 KiB
    text = http("POST", cloud.tasks_endpoint, raw=b"hello", headers={"Content-Type": "text/plain"})
    huge = cloud.submit(new_id("huge"), {"blob": "x" * (260 * 1024)})

    # Then the first is 415 and the second 413, both with JSON bodies
    assert text.status == 415, text.body
    assert huge.status == 413, huge.body
    assert text.json()["message"] and huge.json()["message"]


def test_unknown_routes_and_tasks_are_answered_as_api_gateway_does(
    cloud: LocalCloudProcess,
) -> None:
    # Given the stage URL of the API
    api = cloud.outputs["ApiUrl"].rstrip("/")

    # When a path or a method the API does not define is requested, or an unknown task
    unknown_path = http("GET", f"{api}/nowhere")
    unknown_method = http("DELETE", f"{cloud.tasks_endpoint}/abc")
    unknown_task = cloud.get_task(new_id("never"))

    # Then API Gateway's own 403 answers the routes, saying what the API offers, and the
    # function's 404 the task
    assert unknown_path.status == 403
    assert unknown_path.json()["message"] == "Missing Authentication Token"
    assert unknown_path.json()["routes"] == ["POST /v1/tasks", "GET /v1/tasks/{taskId}"]
    assert unknown_method.status == 403
    assert "GET /v1/tasks/{taskId}" in unknown_method.json()["detail"]
    assert unknown_task.status == 404
    assert unknown_path.headers.get("x-amzn-ErrorType") == "MissingAuthenticationTokenException"
