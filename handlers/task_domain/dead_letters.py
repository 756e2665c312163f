"""Dead letters: what a message in the dead-letter queue says, and its mark on the task record.

Two kinds of message arrive: the workflow's Catch sends {"source": "workflow", ...}; SQS's
redrive moves a task-queue message the starter could not start (the raw task, or whatever
malformed body it had). Whatever the body holds, it becomes a DeadLetter that says as much
as can be known; none is ever refused.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from task_domain import records
from task_domain.models import TASK_ID_PATTERN, DeadLetter, WorkflowInput, iso, utc_now
from task_domain.naming import execution_name_of

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

INTAKE_ERROR = "StartExecutionFailed"
MALFORMED_ERROR = "MalformedTaskMessage"
_TASK_ID = re.compile(TASK_ID_PATTERN)
# Bounds what a dead letter repeats from an arbitrary message.
MAX_FIELD_CHARS = 4096


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:MAX_FIELD_CHARS]


def from_message(body_text: str | None, receive_count: str) -> DeadLetter:
    """The dead letter a DLQ message body describes (`receive_count`: SQS's, as text)."""
    try:
        body: Any = json.loads(body_text or "")
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("source") == "workflow":
        task_id = body.get("taskId")
        return DeadLetter(
            source="workflow",
            task_id=task_id if isinstance(task_id, str) else None,
            error=_text(body.get("error")),
            cause=_text(body.get("cause")),
            execution_arn=_text(body.get("executionArn")),
            failed_at=_text(body.get("failedAt")),
        )
    try:
        task = WorkflowInput.model_validate(body)
        if not _TASK_ID.fullmatch(task.task_id):
            raise ValueError("taskId is not a valid execution name")
    except (ValidationError, ValueError) as exc:
        return DeadLetter(
            source="intake",
            error=MALFORMED_ERROR,
            cause=f"The task-queue message is not a task: {exc}"[:MAX_FIELD_CHARS],
            failed_at=iso(utc_now()),
        )
    return DeadLetter(
        source="intake",
        task_id=task.task_id,
        error=INTAKE_ERROR,
        cause=(
            "The task queue's redrive policy moved the message to the dead-letter queue: "
            f"no execution was started after {receive_count} receives"
        ),
        failed_at=iso(utc_now()),
    )


def run_of(dead_letter: DeadLetter) -> str | None:
    """The run (execution name) that was dead-lettered.

    A workflow dead letter names its execution; an intake one is always the first run, which
    is named after the task (redrives start executions directly, not through the queue).
    """
    return execution_name_of(dead_letter.execution_arn or "") or dead_letter.task_id


def mark_task(table: Table, dead_letter: DeadLetter) -> bool:
    """Note the dead letter on its task's record while that run is still the task's current
    one; False when there is no such record (or run) to mark."""
    run = run_of(dead_letter)
    if dead_letter.task_id is None or run is None:
        return False
    note = records.DeadLetterNote(
        source=dead_letter.source,
        error=dead_letter.error,
        cause=dead_letter.cause,
        at=dead_letter.failed_at,
    )
    return records.record_dead_letter(table, dead_letter.task_id, note, run)
