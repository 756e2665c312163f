"""Dead-letter queue -> one structured log record and one DeadLetteredTasks metric per task.

What a message says is the domain's (task_domain.dead_letters): a malformed message is
logged, never failed (failing it would only bring it back forever). The dead letter is also
written on the task's record, so GET /tasks shows FAILED for a task that never got an
execution.
"""

from __future__ import annotations

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

from lambda_support import aws
from lambda_support.observability import logger, metrics, tracer
from lambda_support.settings import monitor_settings
from task_domain import dead_letters
from task_domain.models import DeadLetter

METRIC_NAME = "DeadLetteredTasks"


def _receive_count(record: SQSRecord) -> str:
    return record.attributes.approximate_receive_count or "?"


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
    table = aws.table(monitor_settings().tasks_table_name)
    if not dead_letters.mark_task(table, dead_letter):
        logger.warning(
            "No task record to mark for this run",
            extra={"taskId": dead_letter.task_id, "execution": dead_letters.run_of(dead_letter)},
        )


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    dead_letter = dead_letters.from_message(record.body, _receive_count(record))
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
