"""A task's status, as clients see it: the table says it was accepted, the execution says
how far it got.

No execution yet means QUEUED, unless monitor-dlq recorded that the task was dead-lettered
before it could start (then FAILED with that error and cause).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from shared.aws_errors import is_code
from shared.models import TaskStatus, iso
from shared.task_store import TaskRecord

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions.client import SFNClient

# DescribeExecution status -> what a client sees.
_STATUS = {
    "RUNNING": TaskStatus.RUNNING,
    "PENDING_REDRIVE": TaskStatus.RUNNING,
    "SUCCEEDED": TaskStatus.SUCCEEDED,
    "FAILED": TaskStatus.FAILED,
    "TIMED_OUT": TaskStatus.FAILED,
    "ABORTED": TaskStatus.FAILED,
}
# Step Functions gives no error for these two; name them the way its events do.
_DEFAULT_ERRORS = {
    "TIMED_OUT": ("States.Timeout", "The execution timed out."),
    "ABORTED": ("States.Aborted", "The execution was stopped."),
}


class TaskView(BaseModel):
    """The body of GET /tasks/{taskId}."""

    model_config = ConfigDict(populate_by_name=True)

    task_id: str = Field(alias="taskId")
    status: TaskStatus
    submitted_at: str | None = Field(default=None, alias="submittedAt")
    execution_arn: str | None = Field(default=None, alias="executionArn")
    start_date: str | None = Field(default=None, alias="startDate")
    stop_date: str | None = Field(default=None, alias="stopDate")
    result: Any = None
    error: str | None = None
    cause: str | None = None

    def body(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


def execution_arn(state_machine_arn: str, execution_name: str) -> str:
    """arn:P:states:R:A:stateMachine:NAME -> arn:P:states:R:A:execution:NAME:execution_name."""
    parts = state_machine_arn.split(":")
    if len(parts) != 7 or parts[5] != "stateMachine":
        raise ValueError(f"not a state machine ARN: {state_machine_arn}")
    return ":".join([*parts[:5], "execution", parts[6], execution_name])


def _iso(value: Any) -> str | None:
    return iso(value) if isinstance(value, datetime) else None


def _output(raw: str | None) -> Any:
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def view_from_execution(record: TaskRecord, arn: str, execution: dict[str, Any]) -> TaskView:
    """Map a DescribeExecution answer onto the client's view of the task."""
    raw_status = str(execution.get("status", "RUNNING"))
    view = TaskView(
        task_id=record.task_id,
        status=_STATUS.get(raw_status, TaskStatus.RUNNING),
        submitted_at=record.submitted_at,
        execution_arn=arn,
        start_date=_iso(execution.get("startDate")),
        stop_date=_iso(execution.get("stopDate")),
    )
    if view.status is TaskStatus.SUCCEEDED:
        view.result = _output(execution.get("output"))
    elif view.status is TaskStatus.FAILED:
        default_error, default_cause = _DEFAULT_ERRORS.get(raw_status, (raw_status, ""))
        view.error = execution.get("error") or default_error
        view.cause = execution.get("cause") or default_cause
    return view


def view_without_execution(record: TaskRecord) -> TaskView:
    if record.dead_letter is not None:
        return TaskView(
            task_id=record.task_id,
            status=TaskStatus.FAILED,
            submitted_at=record.submitted_at,
            error=record.dead_letter.error,
            cause=record.dead_letter.cause,
            stop_date=record.dead_letter.at,
        )
    return TaskView(
        task_id=record.task_id, status=TaskStatus.QUEUED, submitted_at=record.submitted_at
    )


def current_view(record: TaskRecord, sfn: SFNClient, state_machine_arn: str) -> TaskView:
    arn = execution_arn(state_machine_arn, record.execution_name)
    try:
        execution = sfn.describe_execution(executionArn=arn)
    except Exception as exc:
        if is_code(exc, "ExecutionDoesNotExist"):
            return view_without_execution(record)
        raise
    return view_from_execution(record, arn, dict(execution))
