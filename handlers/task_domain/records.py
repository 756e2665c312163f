"""The tasks table: one item per accepted task, the idempotency record of its submission.

The item is written before the task is queued (conditional on the taskId being new), and
`enqueued` turns true once SendMessage succeeded: a retried submission that finds it false
queues the task again, so an accepted task is never lost between the two writes.

A redrive (`ftb redrive`) moves the record to a new run: `executionName` is the current run,
`runs` the earlier ones, oldest first. Before that, the new run's name is reserved by a
placeholder record (`reservedFor`), so no later submission can take that taskId.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from task_domain.aws_errors import is_code
from task_domain.models import TASK_RECORD_TTL_DAYS, TaskStatus, iso, utc_now

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

_CONDITION_FAILED = "ConditionalCheckFailedException"
# A record moved to a new run lives as long as that run's name stays reserved (90 days after
# the execution ends), and a day more for the run itself.
REDRIVEN_RECORD_TTL = timedelta(days=TASK_RECORD_TTL_DAYS + 1)
# A reservation's digest: not a SHA-256 hex digest, so no payload ever matches it (409).
RESERVED_DIGEST = "reserved-execution-name"
RESERVED_STATUS = "RESERVED"
# BatchGetItem's limit on keys per request.
_BATCH_GET_KEYS = 100
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
    # The earlier runs' execution names, oldest first (written by a redrive).
    runs: list[str] = Field(default_factory=list)
    redriven_at: str | None = Field(default=None, alias="redrivenAt")

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

    @classmethod
    def reservation(cls, name: str, task_id: str, now: datetime) -> TaskRecord:
        """The placeholder that holds execution name `name` for a redrive of `task_id`."""
        return cls(
            task_id=name,
            payload_digest=RESERVED_DIGEST,
            status=RESERVED_STATUS,
            submitted_at=iso(now),
            execution_name=name,
            enqueued=True,
            expires_at=int((now + REDRIVEN_RECORD_TTL).timestamp()),
            reserved_for=task_id,
        )

    @property
    def run_names(self) -> list[str]:
        """Every execution name of the task, oldest first; the last is the current run."""
        return [*self.runs, self.execution_name]

    def to_item(self) -> dict[str, Any]:
        item = self.model_dump(by_alias=True, exclude_none=True)
        if not self.runs:
            del item["runs"]  # written by a redrive only
        return item


def get(table: Table, task_id: str) -> TaskRecord | None:
    # Strongly consistent: a GET right after a 202 must find the task.
    item = table.get_item(Key={"taskId": task_id}, ConsistentRead=True).get("Item")
    return TaskRecord.model_validate(item) if item else None


def get_task(table: Table, task_id: str) -> TaskRecord | None:
    """The task's record; None for an unknown taskId and for a redrive's name reservation."""
    record = get(table, task_id)
    return record if record is not None and record.reserved_for is None else None


def scan_tasks(table: Table, *, filter_expression: Any = None) -> list[TaskRecord]:
    """Every task's record, reservations left out (a full scan: for operators, not hot paths)."""
    kwargs: dict[str, Any] = {}
    if filter_expression is not None:
        kwargs["FilterExpression"] = filter_expression
    records: list[TaskRecord] = []
    while True:
        page = table.scan(**kwargs)
        records.extend(TaskRecord.model_validate(item) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return [record for record in records if record.reserved_for is None]
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def get_many(table: Table, task_ids: list[str]) -> dict[str, TaskRecord]:
    """Records by taskId: strongly consistent BatchGetItem, 100 keys a request."""
    records: dict[str, TaskRecord] = {}
    unique = list(dict.fromkeys(task_ids))
    client = table.meta.client
    for first in range(0, len(unique), _BATCH_GET_KEYS):
        keys = [{"taskId": task_id} for task_id in unique[first : first + _BATCH_GET_KEYS]]
        request: dict[str, Any] = {table.name: {"Keys": keys, "ConsistentRead": True}}
        while request:
            answer = client.batch_get_item(RequestItems=request)
            for item in answer.get("Responses", {}).get(table.name, []):
                record = TaskRecord.model_validate(item)
                records[record.task_id] = record
            request = dict(answer.get("UnprocessedKeys") or {})
    return records


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


class NameTakenError(Exception):
    """A redrive's execution name was taken by a new task before it could be reserved."""


def reserve_name(table: Table, name: str, task_id: str) -> None:
    """Hold execution name `name` for a redrive of `task_id` (again, if it holds it already)."""
    reservation = TaskRecord.reservation(name, task_id, utc_now())
    try:
        table.put_item(
            Item=reservation.to_item(),
            ConditionExpression="attribute_not_exists(taskId) OR reservedFor = :task",
            ExpressionAttributeValues={":task": task_id},
        )
    except Exception as exc:
        if is_code(exc, _CONDITION_FAILED):
            raise NameTakenError(f"{name} is held by another task") from None
        raise


def move_to_run(table: Table, task_id: str, current: str, new_name: str) -> bool:
    """Make `new_name` the task's current run, if `current` still is (False: someone else
    moved it first, so two concurrent redrives cannot both start a run)."""
    now = utc_now()
    try:
        table.update_item(
            Key={"taskId": task_id},
            UpdateExpression=(
                "SET executionName = :new, runs = list_append(if_not_exists(runs, :none), "
                ":old), redrivenAt = :now, expiresAt = :expires REMOVE deadLetter"
            ),
            ConditionExpression="executionName = :current",
            ExpressionAttributeValues={
                ":new": new_name,
                ":old": [current],
                ":none": [],
                ":now": iso(now),
                ":expires": int((now + REDRIVEN_RECORD_TTL).timestamp()),
                ":current": current,
            },
        )
    except Exception as exc:
        if is_code(exc, _CONDITION_FAILED):
            return False
        raise
    return True


def clear_dead_letter(table: Table, task_id: str, current: str) -> None:
    """Forget an intake dead letter before the task's never-started run is started."""
    table.update_item(
        Key={"taskId": task_id},
        UpdateExpression="REMOVE deadLetter",
        ConditionExpression="executionName = :current",
        ExpressionAttributeValues={":current": current},
    )
