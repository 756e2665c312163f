"""Task queue -> one Step Functions execution per task, named after its taskId.

The name makes starting idempotent: a redelivered message finds the execution already
there (ExecutionAlreadyExists, or the same execution back while it runs) and is done.
A record that cannot be started fails alone (partial batch response) and is hidden for an
exponentially growing time, so throttling spreads out instead of burning receive counts.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field, Json, ValidationError

from lambda_support import aws
from lambda_support.observability import logger, tracer
from lambda_support.settings import StarterSettings, starter_settings
from task_domain.aws_errors import error_code, is_code, is_transient
from task_domain.models import TASK_ID_MAX_LENGTH, TASK_ID_PATTERN, WorkflowInput

# Longest exponent that matters: beyond it the cap applies anyway (keeps 2**n small).
_MAX_EXPONENT = 30


class TaskMessage(WorkflowInput):
    """A task-queue message body; the taskId must be a valid execution name."""

    task_id: str = Field(alias="taskId", max_length=TASK_ID_MAX_LENGTH, pattern=TASK_ID_PATTERN)


class TaskQueueRecord(SqsRecordModel):
    body: Json[TaskMessage]  # type: ignore[assignment]


class StarterBatchProcessor(BatchProcessor):
    """Reports malformed messages loudly: they fail until the queue's redrive moves them."""

    def failure_handler(self, record: Any, exception: Any) -> Any:
        error = exception[1]
        if isinstance(error, ValidationError):
            logger.error(
                "Malformed task message: not started; the queue's redrive will dead-letter it",
                extra={
                    "messageId": getattr(record, "message_id", None),
                    "receiveCount": _receive_count_of(record),
                    "problems": error.errors(include_input=False, include_url=False),
                },
            )
        return super().failure_handler(record, exception)


def _receive_count_of(record: Any) -> int:
    # Works for the parsed model and for the raw data class of a record that failed parsing.
    attributes = getattr(record, "attributes", None)
    count: Any = getattr(attributes, "approximate_receive_count", None) or getattr(
        attributes, "ApproximateReceiveCount", 1
    )
    try:
        return max(1, int(count))
    except (TypeError, ValueError):
        return 1


def backoff_seconds(receive_count: int, base: int, cap: int) -> int:
    """min(base * 2**(receive_count - 1), cap): 5, 10, 20, 40, ... seconds by default."""
    exponent = min(max(receive_count, 1) - 1, _MAX_EXPONENT)
    return int(min(base * 2**exponent, cap))


def start(task: WorkflowInput, settings: StarterSettings) -> None:
    """Start the task's execution; an execution that already exists means done."""
    try:
        response = aws.stepfunctions().start_execution(
            stateMachineArn=settings.state_machine_arn, name=task.task_id, input=task.to_json()
        )
    except Exception as exc:
        if is_code(exc, "ExecutionAlreadyExists"):
            logger.info("Execution already exists: the task was started before")
            return
        raise
    logger.info("Execution started", extra={"executionArn": response["executionArn"]})


def back_off(record: TaskQueueRecord, settings: StarterSettings, error: Exception) -> None:
    """Hide the record for longer each time it fails, so retries spread out."""
    receive_count = _receive_count_of(record)
    timeout = backoff_seconds(
        receive_count, settings.backoff_base_seconds, settings.backoff_max_seconds
    )
    log = logger.warning if is_transient(error) else logger.error
    log(
        "Could not start the execution; retrying after a backoff",
        extra={
            "error": error_code(error) or type(error).__name__,
            "cause": str(error)[:1000],
            "receiveCount": receive_count,
            "visibilityTimeout": timeout,
        },
    )
    try:
        aws.sqs().change_message_visibility(
            QueueUrl=settings.task_queue_url,
            ReceiptHandle=record.receiptHandle,
            VisibilityTimeout=timeout,
        )
    except Exception:
        # The queue's own visibility timeout still delays the retry.
        logger.exception("Could not extend the message's visibility timeout")


@tracer.capture_method
def record_handler(record: TaskQueueRecord) -> None:
    settings = starter_settings()
    logger.append_keys(taskId=record.body.task_id, messageId=record.messageId)
    try:
        start(record.body, settings)
    except Exception as exc:
        back_off(record, settings, exc)
        raise
    finally:
        logger.remove_keys(["taskId", "messageId"])


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    # A batch where every record failed is still a normal answer: raising would only make
    # Lambda retry the records that the response already names.
    processor = StarterBatchProcessor(
        event_type=EventType.SQS, model=TaskQueueRecord, raise_on_entire_batch_failure=False
    )
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
