"""`ftb history`'s reading of an execution history: steps, attempts, backoffs, billing.

The events follow Step Functions' shapes for this workflow (lambda:invoke with Retry, the
Catch to sqs:sendMessage, the Fail state). The same command on real histories from the
local cloud's engine is in test_session.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from ftb.ops.commands.history import analyse

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def _event(id_: int, type_: str, seconds: float, previous: int, **details: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": id_,
        "type": type_,
        "timestamp": T0 + timedelta(seconds=seconds),
        "previousEventId": previous,
    }
    key = type_[0].lower() + type_[1:]
    if type_.endswith("StateEntered"):
        key = "stateEntered"
    elif type_.endswith("StateExited"):
        key = "stateExited"
    if details:
        event[f"{key}EventDetails"] = details
    return event


def _lambda_failure(message: str) -> dict[str, str]:
    cause = {"errorMessage": message, "errorType": "TransientTaskError", "stackTrace": []}
    return {"error": "TransientTaskError", "cause": json.dumps(cause)}


INVOKE = {"resourceType": "lambda", "resource": "invoke"}
SEND = {"resourceType": "sqs", "resource": "sendMessage"}

# Three failed attempts (backoffs 1.5 s and 3.0 s), then the Catch dead-letters and fails.
EXHAUSTED = [
    _event(1, "ExecutionStarted", 0.0, 0, input='{"taskId":"t-1","payload":{}}'),
    _event(2, "TaskStateEntered", 0.01, 1, name="ProcessTask"),
    _event(3, "TaskScheduled", 0.02, 2, **INVOKE),
    _event(4, "TaskStarted", 0.03, 3, **INVOKE),
    _event(5, "TaskFailed", 0.5, 4, **INVOKE, **_lambda_failure("attempt 1 failed")),
    _event(6, "TaskScheduled", 2.0, 5, **INVOKE),
    _event(7, "TaskStarted", 2.01, 6, **INVOKE),
    _event(8, "TaskFailed", 2.4, 7, **INVOKE, **_lambda_failure("attempt 2 failed")),
    _event(9, "TaskScheduled", 5.4, 8, **INVOKE),
    _event(10, "TaskStarted", 5.41, 9, **INVOKE),
    _event(11, "TaskFailed", 5.8, 10, **INVOKE, **_lambda_failure("attempt 3 failed")),
    _event(12, "TaskStateExited", 5.81, 11, name="ProcessTask"),
    _event(13, "TaskStateEntered", 5.82, 12, name="SendToDeadLetterQueue"),
    _event(14, "TaskScheduled", 5.83, 13, **SEND),
    _event(15, "TaskStarted", 5.84, 14, **SEND),
    _event(16, "TaskSucceeded", 5.9, 15, **SEND, output="{}"),
    _event(17, "TaskStateExited", 5.91, 16, name="SendToDeadLetterQueue"),
    _event(18, "FailStateEntered", 5.92, 17, name="TaskFailed"),
    _event(19, "ExecutionFailed", 5.93, 18, error="TransientTaskError", cause="x"),
]


def test_each_event_gets_its_state_and_each_try_its_attempt_number() -> None:
    # When the history of an execution that exhausted its retries is analysed
    analysis = analyse(EXHAUSTED)
    rows = {row.id: row for row in analysis.rows}
    # Then every event of a state is attributed to it (through previousEventId)
    assert [rows[i].step for i in (3, 5, 9, 11)] == ["ProcessTask"] * 4
    assert rows[14].step == "SendToDeadLetterQueue"
    assert rows[1].step is None
    # And the tries are numbered, with the backoff before each retry
    assert [rows[i].attempt for i in (3, 4, 5, 6, 8, 9, 11)] == [1, 1, 1, 2, 2, 3, 3]
    assert rows[6].backoff_seconds == 1.5
    assert rows[9].backoff_seconds == 3.0
    assert rows[14].attempt == 1 and rows[14].backoff_seconds is None
    # And failures carry their error and cause; times are relative to the start
    assert rows[5].error == "TransientTaskError"
    assert "attempt 1 failed" in (rows[5].cause or "")
    assert rows[19].elapsed_seconds == 5.93
    assert rows[3].resource == "lambda:invoke"


def test_attempts_and_billed_transitions_of_an_exhausted_task() -> None:
    # When the same history is summarised
    analysis = analyse(EXHAUSTED)
    # Then 3 attempts; 3 states entered + 2 retries = 5 billed transitions
    assert analysis.attempts == 3
    assert (analysis.states_entered, analysis.retries) == (3, 2)
    assert analysis.billed_transitions == 5


def test_a_first_time_success_is_one_transition() -> None:
    # Given a task that succeeded at once
    events = [
        _event(1, "ExecutionStarted", 0.0, 0),
        _event(2, "TaskStateEntered", 0.01, 1, name="ProcessTask"),
        _event(3, "TaskScheduled", 0.02, 2, **INVOKE),
        _event(4, "TaskStarted", 0.03, 3, **INVOKE),
        _event(5, "TaskSucceeded", 0.2, 4, **INVOKE, output='{"attempt": 1}'),
        _event(6, "TaskStateExited", 0.21, 5, name="ProcessTask", output='{"attempt": 1}'),
        _event(7, "ExecutionSucceeded", 0.22, 6, output='{"attempt": 1}'),
    ]
    # When it is analysed
    analysis = analyse(events)
    # Then 1 attempt, 1 billed transition, and the output is parsed JSON
    assert (analysis.attempts, analysis.billed_transitions) == (1, 1)
    assert analysis.rows[4].output == {"attempt": 1}
