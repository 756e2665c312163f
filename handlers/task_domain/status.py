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

from task_domain.aws_errors import is_code
from task_domain.caller_errors import caller_message
from task_domain.models import TaskStatus, iso
from task_domain.naming import execution_arn
from task_domain.records import TaskRecord

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
# The execution statuses of a run that ended without success: a dead letter, redrivable.
FAILED_EXECUTION_STATUSES = ("FAILED", "TIMED_OUT", "ABORTED")
# Still going: neither finished nor redrivable.
ACTIVE_EXECUTION_STATUSES = ("RUNNING", "PENDING_REDRIVE")
# Step Functions gives no error for these two; name them the way its events do.
_DEFAULT_ERRORS = {
    "TIMED_OUT": ("States.Timeout", "The execution timed out."),
    "ABORTED": ("States.Aborted", "The execution was stopped."),
}


class TaskView(BaseModel):
    """A task as its record and its execution say; `body()` is what GET /tasks/{taskId}
    answers. `cause` is the operators' (a stack trace, for a Lambda error): callers get the
    error name and `message`, written for them (task_domain/caller_errors.py)."""

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
        body = self.model_dump(by_alias=True, exclude_none=True, exclude={"cause"}, mode="json")
        if self.error is not None:
            body["message"] = caller_message(self.error, self.cause)
        return body


def _iso(value: Any) -> str | None:
    return iso(value) if isinstance(value, datetime) else None


def default_error(raw_status: str) -> tuple[str, str]:
    """(error, cause) for a failed execution that carries none of its own."""
    return _DEFAULT_ERRORS.get(raw_status, (raw_status, ""))


def parse_output(raw: str | None) -> Any:
    """An execution's output (or input) as JSON, else the raw text."""
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
        view.result = parse_output(execution.get("output"))
    elif view.status is TaskStatus.FAILED:
        fallback_error, fallback_cause = default_error(raw_status)
        view.error = execution.get("error") or fallback_error
        view.cause = execution.get("cause") or fallback_cause
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


def describe_execution(sfn: SFNClient, arn: str) -> dict[str, Any] | None:
    """DescribeExecution, or None when there is no such execution."""
    try:
        return dict(sfn.describe_execution(executionArn=arn))
    except Exception as exc:
        if is_code(exc, "ExecutionDoesNotExist"):
            return None
        raise


def current_view(record: TaskRecord, sfn: SFNClient, state_machine_arn: str) -> TaskView:
    """What GET /tasks/{taskId} answers: the record's current run, as its execution says."""
    arn = execution_arn(state_machine_arn, record.execution_name)
    execution = describe_execution(sfn, arn)
    if execution is None:
        return view_without_execution(record)
    return view_from_execution(record, arn, execution)
