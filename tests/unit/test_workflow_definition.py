"""The workflow definition's promises that no run on moto can show: exact Retry settings,
and that the largest accepted task fits Step Functions' data limit at every step."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from task_domain.models import (
    MAX_WORKFLOW_INPUT_BYTES,
    STEP_FUNCTIONS_DATA_LIMIT_BYTES,
    TASK_ID_MAX_LENGTH,
    canonical_json,
)

ASL = json.loads(
    (Path(__file__).parents[2] / "statemachine" / "task_workflow.asl.json").read_text()
)
STATES = ASL["States"]
# The longest names AWS allows: partition, region, 64-character function and 80-character
# state machine and execution names.
LONGEST_FUNCTION_ARN = "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:" + "f" * 64
LONGEST_EXECUTION_ARN = (
    "arn:aws-us-gov:states:us-gov-west-1:123456789012:execution:" + "s" * 80 + ":" + "e" * 80
)


def _largest_accepted_input() -> dict[str, Any]:
    task_id = "t" * TASK_ID_MAX_LENGTH
    empty = len(canonical_json({"taskId": task_id, "payload": {"x": ""}}).encode())
    document = {"taskId": task_id, "payload": {"x": "a" * (MAX_WORKFLOW_INPUT_BYTES - empty)}}
    assert len(canonical_json(document).encode()) == MAX_WORKFLOW_INPUT_BYTES
    return document


def test_process_task_retries_transient_errors_with_capped_exponential_backoff_and_full_jitter():
    # Given the ProcessTask state
    never, retry = STATES["ProcessTask"]["Retry"]
    # Then a permanent error matches first and is never retried
    assert never == {"ErrorEquals": ["PermanentTaskError"], "MaxAttempts": 0}
    # ... and every other error of the task (transient, Lambda's service errors, anything else
    # such as an injected fault) gets 2 more attempts on one counter, 2 s doubling, capped,
    # jittered
    assert retry["ErrorEquals"][0] == "TransientTaskError"
    assert all(e.startswith("Lambda.") for e in retry["ErrorEquals"][1:-1])
    assert retry["ErrorEquals"][-1] == "States.TaskFailed"
    assert "PermanentTaskError" not in retry["ErrorEquals"]
    assert "States.ALL" not in retry["ErrorEquals"]
    assert retry["MaxAttempts"] == 2
    assert retry["IntervalSeconds"] == 2
    assert retry["BackoffRate"] == 2.0
    assert retry["MaxDelaySeconds"] == 30
    assert retry["JitterStrategy"] == "FULL"


def test_everything_left_is_dead_lettered_then_fails_with_the_tasks_own_error():
    # Given the Catch of ProcessTask
    (catch,) = STATES["ProcessTask"]["Catch"]
    # Then every error goes to the dead-letter step, which then ends in the Fail state
    assert catch == {"ErrorEquals": ["States.ALL"], "Next": "SendToDeadLetterQueue"}
    send = STATES["SendToDeadLetterQueue"]
    assert send["Resource"] == "arn:aws:states:::sqs:sendMessage"
    assert send["ResultPath"] is None
    fail = STATES[send["Next"]]
    assert (fail["Type"], fail["ErrorPath"], fail["CausePath"]) == ("Fail", "$.Error", "$.Cause")
    # And sending the dead letter is retried for minutes, not seconds
    (retry,) = send["Retry"]
    assert retry["MaxAttempts"] >= 10 and retry["MaxDelaySeconds"] >= 300


def test_the_dead_letter_message_never_carries_the_payload():
    body = STATES["SendToDeadLetterQueue"]["Parameters"]["MessageBody"]
    assert set(body) == {"source", "taskId.$", "error.$", "cause.$", "executionArn.$", "failedAt.$"}
    assert "payload" not in json.dumps(body)


def test_the_largest_accepted_task_fits_the_data_limit_as_process_task_input():
    # Given the largest task submit-task accepts, with the longest taskId
    document = _largest_accepted_input()
    # When ProcessTask's Parameters build the Lambda invocation from it (the longest ARNs)
    parameters = STATES["ProcessTask"]["Parameters"]
    assert set(parameters["Payload"]) == {"taskId.$", "payload.$", "attempt.$", "executionArn.$"}
    effective = {
        "FunctionName": LONGEST_FUNCTION_ARN,
        "Payload": {
            "taskId": document["taskId"],
            "payload": document["payload"],
            "attempt": 2,
            "executionArn": LONGEST_EXECUTION_ARN,
        },
    }
    # Then that task input is within Step Functions' 256 KiB, so it can never fail uncaught
    assert len(json.dumps(effective, separators=(",", ":")).encode()) <= (
        STEP_FUNCTIONS_DATA_LIMIT_BYTES
    )
