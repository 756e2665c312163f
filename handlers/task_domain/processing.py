"""The workflow's work: process one attempt of a task, or fail as the original system specified.

Errors are raised, not returned: Lambda reports the exception class name as the error type,
which is what the workflow's Retry (TransientTaskError) and Catch match on.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from task_domain.errors import PermanentTaskError, TransientTaskError
from task_domain.failure_simulation import (
    FailureSimulation,
    fails_permanently,
    fails_transiently,
)
from task_domain.models import TaskResult, iso, payload_digest, utc_now


class TaskAttempt(BaseModel):
    """What the workflow's ProcessTask state sends (statemachine/task_workflow.asl.json)."""

    model_config = ConfigDict(populate_by_name=True)

    task_id: str = Field(alias="taskId", min_length=1)
    payload: dict[str, Any]
    attempt: int = Field(default=0, ge=0, description="0-based: $$.State.RetryCount")
    execution_arn: str | None = Field(default=None, alias="executionArn")


def process(task: TaskAttempt, simulation: FailureSimulation) -> TaskResult:
    attempt = task.attempt + 1
    if fails_permanently(task.task_id):
        raise PermanentTaskError(f"Task {task.task_id} cannot be processed (its id ends in 3)")
    if fails_transiently(task.task_id, task.attempt, simulation.rate, simulation.seed):
        raise TransientTaskError(
            f"Simulated transient failure of task {task.task_id} on attempt {attempt}"
        )
    return TaskResult(
        task_id=task.task_id,
        payload_digest=payload_digest(task.payload),
        attempt=attempt,
        processed_at=iso(utc_now()),
    )
