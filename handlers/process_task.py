"""The workflow's work: process one task, or fail the way the original system specified.

Errors are raised, not returned: Lambda reports the exception class name as the error type,
which is what the workflow's Retry (TransientTaskError) and Catch match on.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from lambda_support.observability import logger, tracer
from lambda_support.settings import ProcessingSettings, processing_settings
from task_domain.errors import PermanentTaskError, TransientTaskError
from task_domain.failure_simulation import fails_permanently, fails_transiently
from task_domain.models import TaskResult, iso, payload_digest, utc_now


class ProcessTaskEvent(BaseModel):
    """What the workflow's ProcessTask state sends (see statemachine/task_workflow.asl.json)."""

    model_config = ConfigDict(populate_by_name=True)

    task_id: str = Field(alias="taskId", min_length=1)
    payload: dict[str, Any]
    attempt: int = Field(default=0, ge=0, description="0-based: $$.State.RetryCount")
    execution_arn: str | None = Field(default=None, alias="executionArn")


def process(task: ProcessTaskEvent, settings: ProcessingSettings) -> TaskResult:
    attempt = task.attempt + 1
    if fails_permanently(task.task_id):
        raise PermanentTaskError(f"Task {task.task_id} cannot be processed (its id ends in 3)")
    if fails_transiently(task.task_id, task.attempt, settings.failure_rate, settings.failure_seed):
        raise TransientTaskError(
            f"Simulated transient failure of task {task.task_id} on attempt {attempt}"
        )
    return TaskResult(
        task_id=task.task_id,
        payload_digest=payload_digest(task.payload),
        attempt=attempt,
        processed_at=iso(utc_now()),
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = ProcessTaskEvent.model_validate(event)
    logger.append_keys(
        taskId=task.task_id, executionArn=task.execution_arn, attempt=task.attempt + 1
    )
    try:
        result = process(task, processing_settings())
    except (TransientTaskError, PermanentTaskError) as exc:
        logger.warning("Task failed", extra={"error": type(exc).__name__, "cause": str(exc)})
        raise
    logger.info("Task processed", extra={"payloadDigest": result.payload_digest})
    return result.model_dump(by_alias=True)
