"""One execution history event as Step Functions writes it to CloudWatch Logs.

The format of AWS's execution logs (Step Functions Developer Guide, "Logging in CloudWatch
Logs" and "Log levels"): one JSON object per event, with the event's `id`, `type`,
`details` (the event's *EventDetails), `previous_event_id`, `event_timestamp` (epoch
milliseconds), `execution_arn` and `redrive_count`, numbers as strings. Without
`includeExecutionData` the input and output (and their details) are left out of `details`,
as GetExecutionHistory leaves them out with includeExecutionData=false.

Levels: ALL logs every event; ERROR the failure events (ERROR_TYPES); FATAL only the
execution's own failure, time-out or abort; OFF nothing. Every top-level value is a string
(ids and the millisecond timestamp included), as in records AWS writes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ftb.localcloud.stepfunctions_reads.history import epoch_seconds, without_execution_data

FATAL_TYPES = frozenset({"ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"})
# The event types level ERROR logs (Developer Guide, "Log levels"; the same list LocalStack's
# emulator keeps): the execution's end without success and every failure below it.
ERROR_TYPES = FATAL_TYPES | frozenset(
    {
        "FailStateEntered",
        "LambdaFunctionFailed",
        "LambdaFunctionScheduleFailed",
        "LambdaFunctionStartFailed",
        "LambdaFunctionTimedOut",
        "MapIterationAborted",
        "MapIterationFailed",
        "MapRunAborted",
        "MapRunFailed",
        "MapStateAborted",
        "MapStateFailed",
        "ParallelStateAborted",
        "ParallelStateFailed",
        "TaskFailed",
        "TaskStartFailed",
        "TaskStateAborted",
        "TaskSubmitFailed",
        "TaskTimedOut",
        "WaitStateAborted",
    }
)


def logged_types(level: str) -> Callable[[str], bool]:
    """A predicate: is an event of this type logged at `level`?"""
    level = level.upper()
    if level == "ALL":
        return lambda event_type: True
    if level == "ERROR":
        return lambda event_type: event_type in ERROR_TYPES
    if level == "FATAL":
        return lambda event_type: event_type in FATAL_TYPES
    return lambda event_type: False


def log_record(
    event: dict[str, Any], execution_arn: str, *, include_data: bool, redrive_count: int = 0
) -> dict[str, Any]:
    """The log record of one history event (GetExecutionHistory's shape)."""
    shaped = event if include_data else without_execution_data(event)
    details: dict[str, Any] = {}
    for key, value in shaped.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            details = dict(value)
    return {
        "id": str(event["id"]),
        "type": event["type"],
        "details": details,
        "previous_event_id": str(event.get("previousEventId", 0)),
        "event_timestamp": str(round(epoch_seconds(event["timestamp"]) * 1000)),
        "execution_arn": execution_arn,
        "redrive_count": str(redrive_count),
    }


def log_message(record: dict[str, Any]) -> str:
    return json.dumps(record, separators=(",", ":"))
