"""process-task: one attempt of a task, as the workflow's ProcessTask state invokes it.

The work and its simulated failures are the domain's (task_domain.processing); errors are
raised so that Lambda reports the class name, which the workflow's Retry and Catch match.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from lambda_support.observability import logger, tracer
from lambda_support.settings import processing_settings
from task_domain.errors import PermanentTaskError, TransientTaskError
from task_domain.failure_simulation import FailureSimulation
from task_domain.processing import TaskAttempt, process


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = TaskAttempt.model_validate(event)
    logger.append_keys(
        taskId=task.task_id, executionArn=task.execution_arn, attempt=task.attempt + 1
    )
    try:
        settings = processing_settings()
        result = process(task, FailureSimulation(settings.failure_rate, settings.failure_seed))
    except (TransientTaskError, PermanentTaskError) as exc:
        logger.warning("Task failed", extra={"error": type(exc).__name__, "cause": str(exc)})
        raise
    logger.info("Task processed", extra={"payloadDigest": result.payload_digest})
    return result.model_dump(by_alias=True)
