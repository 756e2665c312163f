"""End to end on the extended test app (tests/support/extra_app): the real stack plus an extra
queue, function and route, run by `ftb local` with no change to ftb; process-task fails
transiently at FAILURE_RATE=0.5 with a fixed FAILURE_SEED, so each task's fate is known."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import pytest

from task_domain.failure_simulation import fails_transiently
from tests.support.extra_app.names import (
    EXTRA_FUNCTION_NAME,
    EXTRA_MAX_RECEIVE_COUNT,
    EXTRA_TIMEOUT_SECONDS,
)
from tests.support.local_cloud import (
    EXTRA_FAILURE_RATE,
    FAILURE_SEED,
    LocalCloudProcess,
    http,
    wait_for,
)

# A hang guard only: a cold synth (cloud start-up) and every wait are bounded inside.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

ASL_RETRY_INTERVAL = 2.0  # statemachine/task_workflow.asl.json: IntervalSeconds, BackoffRate
ASL_BACKOFF_RATE = 2.0
CLOCK_SLACK_SECONDS = 1.0  # scheduling and invocation overhead on a busy machine


def task_id_failing(outcomes: list[bool]) -> str:
    """A fresh taskId whose attempts fail transiently exactly as `outcomes` says (True: fails)."""
    for _ in range(10_000):
        task_id = f"flaky-{uuid.uuid4().hex[:10]}"
        if task_id.endswith("3"):
            continue
        draws = [
            fails_transiently(task_id, attempt, EXTRA_FAILURE_RATE, FAILURE_SEED)
            for attempt in range(len(outcomes))
        ]
        if draws == outcomes:
            return task_id
    raise AssertionError("no such taskId")


def process_task_attempts(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each attempt of ProcessTask: scheduled time, and failure time and error when it failed."""
    attempts: list[dict[str, Any]] = []
    for event in history:
        details = event.get("taskScheduledEventDetails")
        if details and details.get("resource") == "invoke" and details["resourceType"] == "lambda":
            attempts.append({"scheduled": event["timestamp"]})
        elif event["type"] == "TaskFailed" and attempts and "failed" not in attempts[-1]:
            attempts[-1]["failed"] = event["timestamp"]
            attempts[-1]["error"] = event["taskFailedEventDetails"]["error"]
    return attempts


def seconds_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds()


def test_transient_failures_are_retried_with_growing_delays(
    extra_cloud: LocalCloudProcess,
) -> None:
    # Given a task whose first two attempts fail transiently and whose third succeeds
    task_id = task_id_failing([True, True, False])

    # When it is submitted
    assert extra_cloud.submit(task_id).status == 202

    # Then it succeeds on the third attempt
    done = extra_cloud.wait_for_status(task_id, "SUCCEEDED", timeout=180)
    assert done["result"]["attempt"] == 3

    # And the execution history shows both retries, each after a delay drawn below a cap that
    # doubles (IntervalSeconds 2, BackoffRate 2, full jitter: delay_k ~ U(0, 2 * 2**k))
    attempts = process_task_attempts(extra_cloud.history(task_id))
    assert [a.get("error") for a in attempts] == ["TransientTaskError", "TransientTaskError", None]
    delays = [
        seconds_between(attempts[k]["failed"], attempts[k + 1]["scheduled"]) for k in range(2)
    ]
    caps = [ASL_RETRY_INTERVAL * ASL_BACKOFF_RATE**k for k in range(2)]
    assert caps[1] > caps[0]
    for delay, cap in zip(delays, caps, strict=True):
        assert 0 <= delay <= cap + CLOCK_SLACK_SECONDS, (delays, caps)


def test_a_task_exhausting_its_retries_is_dead_lettered_with_the_transient_error(
    extra_cloud: LocalCloudProcess,
) -> None:
    # Given a task whose three attempts all fail transiently
    task_id = task_id_failing([True, True, True])

    # When it is submitted
    assert extra_cloud.submit(task_id).status == 202

    # Then it fails after exactly three attempts, and the monitor records its dead letter
    failed = extra_cloud.wait_for_status(task_id, "FAILED", timeout=180)
    assert "TransientTaskError" in json.dumps(failed)
    attempts = process_task_attempts(extra_cloud.history(task_id))
    assert [a["error"] for a in attempts] == ["TransientTaskError"] * 3
    monitor_group = f"/aws/lambda/{extra_cloud.function_name('monitor-dlq')}"
    record = wait_for(
        lambda: next(
            (r for r in extra_cloud.json_logs(monitor_group) if r.get("taskId") == task_id), None
        ),
        30,
        "the monitor's record",
    )
    assert record["error"] == "TransientTaskError"
    assert record["source"] == "workflow"


def test_the_extra_queue_and_function_are_provisioned_and_consume_messages(
    extra_cloud: LocalCloudProcess,
) -> None:
    # Given the extra stack's outputs (the template's, resolved to local values)
    queue_url = extra_cloud.outputs["ExtraQueueUrl"]
    dead_letter_url = extra_cloud.outputs["ExtraDeadLetterQueueUrl"]
    assert extra_cloud.outputs["ExtraFunctionName"] == EXTRA_FUNCTION_NAME
    assert queue_url.startswith(extra_cloud.endpoint_url)

    # When messages are sent to the extra queue, one of which the function reports as failed
    sqs = extra_cloud.client("sqs")
    marker = uuid.uuid4().hex
    sqs.send_message(QueueUrl=queue_url, MessageBody=f"hello-{marker}")
    failing = sqs.send_message(QueueUrl=queue_url, MessageBody="fail")["MessageId"]

    # Then its event source mapping delivers them: the function logs the good one in its
    # log group and the good one is deleted
    group = f"/aws/lambda/{EXTRA_FUNCTION_NAME}"
    wait_for(
        lambda: any(r.get("echo") == f"hello-{marker}" for r in extra_cloud.json_logs(group)),
        30,
        "the extra function's log line",
    )

    # And the reported failure comes back after the visibility timeout until the queue's
    # redrive policy moves it to its dead-letter queue, after maxReceiveCount receives
    def dead_lettered() -> list[dict[str, Any]]:
        response = sqs.receive_message(
            QueueUrl=dead_letter_url, WaitTimeSeconds=1, MessageSystemAttributeNames=["All"]
        )
        return [m for m in response.get("Messages", []) if m["MessageId"] == failing]

    moved = wait_for(dead_lettered, 120, "the failing message in the extra DLQ")
    assert moved[0]["Body"] == "fail"
    wait_for(
        lambda: [r for r in extra_cloud.json_logs(group) if r.get("messageId") == failing],
        10,
        "the failing message's deliveries in the log",
    )
    deliveries = [r for r in extra_cloud.json_logs(group) if r.get("messageId") == failing]
    assert len(deliveries) == EXTRA_MAX_RECEIVE_COUNT
    assert extra_cloud.queue_counts(queue_url) == (0, 0)


def test_the_extra_route_gets_an_api_gateway_proxy_event(extra_cloud: LocalCloudProcess) -> None:
    # Given the extra route GET /extra/{name} on the stack's API
    api = extra_cloud.outputs["ApiUrl"].rstrip("/")

    # When it is called with a path parameter and a repeated query parameter
    response = http("GET", f"{api}/extra/world?tag=a&tag=b", headers={"User-Agent": "e2e"})

    # Then the function got a REST proxy event, and its response went back as it gave it
    assert response.status == 200, response.body
    assert response.headers.get("X-Extra") == "yes"
    assert response.json() == {
        "greeting": "hello",
        "pathParameters": {"name": "world"},
        "query": {"tag": ["a", "b"]},
        "resource": "/extra/{name}",
        "stage": "v1",
        "sourceIp": "127.0.0.1",
    }


def test_a_function_outliving_its_timeout_is_reported_like_lambda(
    extra_cloud: LocalCloudProcess,
) -> None:
    # Given the extra function, whose timeout is 2 seconds
    lam = extra_cloud.client("lambda")

    # When it is invoked with work that takes longer
    result = lam.invoke(
        FunctionName=EXTRA_FUNCTION_NAME, Payload=json.dumps({"seconds": EXTRA_TIMEOUT_SECONDS + 3})
    )

    # Then Lambda's Invoke API reports a timeout, as Lambda does
    assert result["StatusCode"] == 200
    assert result["FunctionError"] == "Unhandled"
    error = json.loads(result["Payload"].read())
    assert error["errorType"] == "Sandbox.Timedout"
    assert f"Task timed out after {EXTRA_TIMEOUT_SECONDS:.2f} seconds" in error["errorMessage"]

    # And behind the API, the same timeout is API Gateway's 502
    api = extra_cloud.outputs["ApiUrl"].rstrip("/")
    response = http("GET", f"{api}/extra/slow?sleep={EXTRA_TIMEOUT_SECONDS + 3}")
    assert response.status == 502
    assert response.json() == {"message": "Internal server error"}

    # And the function still answers afterwards (its worker was replaced)
    again = lam.invoke(FunctionName=EXTRA_FUNCTION_NAME, Payload=json.dumps({"seconds": 0}))
    assert "FunctionError" not in again
