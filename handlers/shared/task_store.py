"""The tasks table: one item per accepted task, the idempotency record of its submission.

The item is written before the task is queued (conditional on the taskId being new), and
`enqueued` turns true once SendMessage succeeded: a retried submission that finds it false
queues the task again, so an accepted task is never lost between the two writes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from shared.aws_errors import is_code
from shared.models import TASK_RECORD_TTL_DAYS, TaskStatus, iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

_CONDITION_FAILED = "ConditionalCheckFailedException"
# A dead letter's cause can be a long stack trace; the record only needs its gist.
MAX_DEAD_LETTER_CAUSE_CHARS = 4096


class DeadLetterNote(BaseModel):
    """Why a task ended in the dead-letter queue, as recorded on its item by monitor-dlq."""

    model_config = ConfigDict(populate_by_name=True)

    source: str
    error: str | None = None
    cause: str | None = None
    at: str | None = None


class TaskRecord(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    task_id: str = Field(alias="taskId")
    payload_digest: str = Field(alias="payloadDigest")
    status: str = TaskStatus.QUEUED.value
    submitted_at: str = Field(alias="submittedAt")
    execution_name: str = Field(alias="executionName")
    enqueued: bool = False
    expires_at: int = Field(alias="expiresAt")
    dead_letter: DeadLetterNote | None = Field(default=None, alias="deadLetter")
    # Set on a placeholder that `ftb redrive` writes to hold a derived execution name
    # (`{taskId}-r{n}`) for the task named here: not a task of its own.
    reserved_for: str | None = Field(default=None, alias="reservedFor")

    @classmethod
    def new(cls, task_id: str, digest: str, now: datetime) -> TaskRecord:
        expires = now + timedelta(days=TASK_RECORD_TTL_DAYS)
        return cls(
            task_id=task_id,
            payload_digest=digest,
            submitted_at=iso(now),
            execution_name=task_id,
            expires_at=int(expires.timestamp()),
        )

    def to_item(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)


def get(table: Table, task_id: str) -> TaskRecord | None:
    # Strongly consistent: a GET right after a 202 must find the task.
    item = table.get_item(Key={"taskId": task_id}, ConsistentRead=True).get("Item")
    return TaskRecord.model_validate(item) if item else None


def create(table: Table, record: TaskRecord) -> TaskRecord | None:
    """Write a new record; None when written, else the record that already holds the taskId."""
    for _ in range(2):  # the second round only if the holder expired between put and get
        try:
            table.put_item(
                Item=record.to_item(), ConditionExpression="attribute_not_exists(taskId)"
            )
            return None
        except Exception as exc:
            if not is_code(exc, _CONDITION_FAILED):
                raise
        existing = get(table, record.task_id)
        if existing is not None:
            return existing
    raise RuntimeError(f"task {record.task_id} neither written nor found")


def mark_enqueued(table: Table, task_id: str) -> None:
    try:
        table.update_item(
            Key={"taskId": task_id},
            UpdateExpression="SET enqueued = :true",
            ConditionExpression="attribute_exists(taskId)",
            ExpressionAttributeValues={":true": True},
        )
    except Exception as exc:
        if not is_code(exc, _CONDITION_FAILED):  # gone (expired): nothing to mark
            raise


def record_dead_letter(
    table: Table, task_id: str, note: DeadLetterNote, execution_name: str
) -> bool:
    """Put the dead letter on the task's record while `execution_name` is still its current run.

    False when there is no such record, or when a redrive has since moved the task to a newer
    run: a late dead letter of an old run must not mark the new one failed.
    """
    if note.cause is not None:
        note = note.model_copy(update={"cause": note.cause[:MAX_DEAD_LETTER_CAUSE_CHARS]})
    try:
        table.update_item(
            Key={"taskId": task_id},
            UpdateExpression="SET deadLetter = :note",
            ConditionExpression="attribute_exists(taskId) AND executionName = :run",
            ExpressionAttributeValues={
                ":note": note.model_dump(exclude_none=True),
                ":run": execution_name,
            },
        )
    except Exception as exc:
        if is_code(exc, _CONDITION_FAILED):
            return False
        raise
    return True
