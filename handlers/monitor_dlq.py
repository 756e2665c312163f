"""Dead-letter queue -> one structured log record and one DeadLetteredTasks metric per task.

Two kinds of message arrive: the workflow's Catch sends {"source": "workflow", ...}; SQS's
redrive moves a task-queue message the starter could not start (the raw task, or whatever
malformed body it had). A malformed message is logged, never failed: failing it would only
bring it back forever. The dead letter is also written on the task's record, so
GET /tasks shows FAILED for a task that never got an execution.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from lambda_support import aws
from lambda_support.observability import logger, metrics, tracer
from lambda_support.settings import monitor_settings
from task_domain import records
from task_domain.models import TASK_ID_PATTERN, DeadLetter, WorkflowInput, iso, utc_now
from task_domain.naming import execution_name_of

METRIC_NAME = "DeadLetteredTasks"
INTAKE_ERROR = "StartExecutionFailed"
MALFORMED_ERROR = "MalformedTaskMessage"
_TASK_ID = re.compile(TASK_ID_PATTERN)
# Bounds what one log line repeats from an arbitrary message.
_MAX_FIELD_CHARS = 4096


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:_MAX_FIELD_CHARS]


def _receive_count(record: SQSRecord) -> str:
    return record.attributes.approximate_receive_count or "?"


def dead_letter_from(record: SQSRecord) -> DeadLetter:
    """Whatever the body holds, a DeadLetter that says as much as can be known."""
    try:
        body: Any = json.loads(record.body or "")
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
            cause=f"The task-queue message is not a task: {exc}"[:_MAX_FIELD_CHARS],
            failed_at=iso(utc_now()),
        )
    return DeadLetter(
        source="intake",
        task_id=task.task_id,
        error=INTAKE_ERROR,
        cause=(
            "The task queue's redrive policy moved the message to the dead-letter queue: "
            f"no execution was started after {_receive_count(record)} receives"
        ),
        failed_at=iso(utc_now()),
    )


def report(dead_letter: DeadLetter, record: SQSRecord) -> None:
    logger.error(
        "Task dead-lettered",
        extra={
            **dead_letter.model_dump(by_alias=True),
            "messageId": record.message_id,
            "receiveCount": _receive_count(record),
            "sourceQueueArn": record.attributes.dead_letter_queue_source_arn,
        },
    )
    metrics.add_metric(name=METRIC_NAME, unit=MetricUnit.Count, value=1)


def mark_task(dead_letter: DeadLetter) -> None:
    """Note the dead letter on the task's record (if the task has one)."""
    if dead_letter.task_id is None:
        return
    note = records.DeadLetterNote(
        source=dead_letter.source,
        error=dead_letter.error,
        cause=dead_letter.cause,
        at=dead_letter.failed_at,
    )
    # A workflow dead letter names its execution; an intake one is always the first run,
    # which is named after the task (redrives start executions directly, not via the queue).
    run = execution_name_of(dead_letter.execution_arn or "") or dead_letter.task_id
    table = aws.table(monitor_settings().tasks_table_name)
    if not records.record_dead_letter(table, dead_letter.task_id, note, run):
        logger.warning(
            "No task record to mark for this run",
            extra={"taskId": dead_letter.task_id, "execution": run},
        )


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    dead_letter = dead_letter_from(record)
    # Marked first, reported second: a table error fails the record and SQS retries it, so
    # reporting before the mark would log and count the same dead letter once per attempt.
    try:
        mark_task(dead_letter)
    except Exception:
        logger.warning(
            "Could not mark the task record; the message will be retried",
            exc_info=True,
            extra={
                **dead_letter.model_dump(by_alias=True),
                "messageId": record.message_id,
                "receiveCount": _receive_count(record),
            },
        )
        raise
    report(dead_letter, record)


@metrics.log_metrics(raise_on_empty_metrics=False)
@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
