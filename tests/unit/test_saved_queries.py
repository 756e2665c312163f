"""The stack's saved Logs Insights queries parse, and answer what they promise over the lines
the handlers and the state machine actually write (run by the local Insights engine)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ftb.localcloud.logs_insights.executor import execute
from ftb.localcloud.logs_insights.parser import parse_query
from ftb.localcloud.logs_insights.records import EventRecord
from infra import names, queries

ACCOUNT = "123456789012"
STACK = names.DEFAULT_STACK_NAME
WORKFLOW_GROUP = f"/aws/vendedlogs/states/{STACK}-task-workflow"
EXECUTION = f"arn:aws:states:us-east-1:{ACCOUNT}:execution:{STACK}-task-workflow:task-0079"
OTHER_EXECUTION = f"arn:aws:states:us-east-1:{ACCOUNT}:execution:{STACK}-task-workflow:task-0001"
T0 = 1_764_000_000_000


def _powertools(service: str, message: str, **keys: Any) -> dict[str, Any]:
    """A line as Powertools Logger writes it (the keys our handlers append included)."""
    return {
        "level": "INFO",
        "location": "handler:1",
        "message": message,
        "service": service,
        "timestamp": "2026-12-03T20:00:00.000Z",
        "cold_start": False,
        **keys,
    }


def _event(number: int, kind: str, execution: str = EXECUTION, **details: Any) -> dict[str, Any]:
    """An execution event in AWS's documented Step Functions log format."""
    return {
        "id": str(number),
        "type": kind,
        "details": details,
        "previous_event_id": str(number - 1),
        "event_timestamp": str(T0 + number * 1000),
        "execution_arn": execution,
        "redrive_count": "0",
    }


def _records(lines: list[tuple[str, int, dict[str, Any]]]) -> list[EventRecord]:
    return [
        EventRecord(
            T0 + offset,
            json.dumps(body),
            T0 + offset + 5,
            group,
            f"{ACCOUNT}:{group}",
            "stream",
            index,
        )
        for index, (group, offset, body) in enumerate(lines)
    ]


PROCESS = names.PROCESS_TASK.log_group_name(STACK)
MONITOR = names.MONITOR_DLQ.log_group_name(STACK)
SUBMIT = names.SUBMIT_TASK.log_group_name(STACK)

# Given task-0079: accepted, three failed attempts, dead-lettered; task-0001 succeeds at once.
LINES = _records(
    [
        (SUBMIT, 0, _powertools("submit-task", "Task accepted", taskId="task-0079")),
        (WORKFLOW_GROUP, 1000, _event(1, "ExecutionStarted")),
        (
            WORKFLOW_GROUP,
            1100,
            _event(2, "TaskScheduled", resourceType="lambda", resource="invoke"),
        ),
        *[
            line
            for attempt in (1, 2, 3)
            for line in (
                (
                    PROCESS,
                    1000 + attempt * 3000,
                    _powertools(
                        "process-task",
                        "Task failed",
                        taskId="task-0079",
                        attempt=attempt,
                        executionArn=EXECUTION,
                        error="TransientTaskError",
                        cause="simulated",
                    ),
                ),
                (
                    WORKFLOW_GROUP,
                    1050 + attempt * 3000,
                    _event(
                        2 + attempt,
                        "TaskFailed",
                        resourceType="lambda",
                        resource="invoke",
                        error="TransientTaskError",
                        cause="simulated",
                    ),
                ),
            )
        ],
        (WORKFLOW_GROUP, 12_000, _event(9, "ExecutionFailed", error="TransientTaskError")),
        (
            MONITOR,
            13_000,
            {
                **_powertools(
                    "monitor-dlq",
                    "Task dead-lettered",
                    taskId="task-0079",
                    source="workflow",
                    error="TransientTaskError",
                    cause="simulated",
                    executionArn=EXECUTION,
                    receiveCount="1",
                ),
                "level": "ERROR",
            },
        ),
        # task-0079's redrive (its second run) and a task whose id only starts like it
        (WORKFLOW_GROUP, 15_000, _event(1, "ExecutionStarted", f"{EXECUTION}-r1")),
        (WORKFLOW_GROUP, 15_500, _event(1, "ExecutionStarted", f"{EXECUTION}0")),
        (WORKFLOW_GROUP, 20_000, _event(1, "ExecutionStarted", OTHER_EXECUTION)),
        (
            PROCESS,
            21_000,
            _powertools(
                "process-task",
                "Task processed",
                taskId="task-0001",
                attempt=1,
                executionArn=OTHER_EXECUTION,
            ),
        ),
        (WORKFLOW_GROUP, 22_000, _event(4, "ExecutionSucceeded", OTHER_EXECUTION)),
    ]
)


def _run(query: queries.SavedQuery, text: str | None = None) -> list[dict[str, str]]:
    result = execute(parse_query(text or query.query), list(LINES))
    return [{cell["field"]: cell["value"] for cell in row} for row in result.rows]


@pytest.mark.parametrize("query", queries.ALL_QUERIES, ids=lambda q: q.key)
def test_every_saved_query_parses(query):
    # When the local Insights parser reads the saved query  Then it is valid (no MalformedQuery)
    parsed = parse_query(query.query)
    assert parsed.commands


def test_saved_query_keys_are_unique_and_named():
    keys = [q.key for q in queries.ALL_QUERIES]
    assert len(set(keys)) == len(keys) == 5
    assert names.saved_query_name(STACK, "follow-one-task") == f"{STACK}/follow-one-task"


def test_follow_one_task_shows_every_line_of_that_task_in_order():
    text = queries.FOLLOW_ONE_TASK.query.replace(queries.TASK_ID, "task-0079")
    rows = _run(queries.FOLLOW_ONE_TASK, text)
    # Then its function lines and its executions' events (the redrive's too), oldest first,
    # and nothing of task-00790
    assert len(rows) == 1 + 1 + 1 + 3 * 2 + 1 + 1 + 1
    assert [r["event"] for r in rows][:3] == ["Task accepted", "ExecutionStarted", "TaskScheduled"]
    assert [r["event"] for r in rows][-2:] == ["Task dead-lettered", "ExecutionStarted"]
    assert {r["errorName"] for r in rows if "errorName" in r} == {"TransientTaskError"}


def test_failures_by_error_counts_failed_attempts_per_function_and_error():
    rows = _run(queries.FAILURES_BY_ERROR)
    by_key = {(r["service"], r["errorName"]): r for r in rows}
    assert by_key[("process-task", "TransientTaskError")]["failures"] == "3"
    assert by_key[("process-task", "TransientTaskError")]["tasks"] == "1"
    assert by_key[("monitor-dlq", "TransientTaskError")]["failures"] == "1"


def test_retries_per_task_counts_failed_lambda_attempts_per_execution():
    rows = _run(queries.RETRIES_PER_TASK)
    assert rows == [
        {
            "execution_arn": EXECUTION,
            "failedAttempts": "3",
            "lastError": "TransientTaskError",
            "redriveCount": "0",
        }
    ]


def test_dead_letters_lists_the_monitors_reports():
    rows = _run(queries.DEAD_LETTERS)
    assert len(rows) == 1
    assert rows[0]["taskId"] == "task-0079"
    assert rows[0]["source"] == "workflow"


def test_slowest_tasks_ranks_executions_by_their_span():
    rows = _run(queries.SLOWEST_TASKS)
    assert [r["execution_arn"] for r in rows][:2] == [EXECUTION, OTHER_EXECUTION]
    assert float(rows[0]["seconds"]) == pytest.approx(11.0)
    assert float(rows[1]["seconds"]) == pytest.approx(2.0)
