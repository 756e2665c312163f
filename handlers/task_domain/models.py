"""The task contract: what a client submits, what is stored, what flows through the queues."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

# The taskId becomes the Step Functions execution name: 1-80 characters, and we allow only
# the characters that are safe everywhere (names may not hold whitespace, brackets,
# wildcards, punctuation or control characters).
TASK_ID_PATTERN = r"^[A-Za-z0-9_-]{1,80}$"
TASK_ID_MAX_LENGTH = 80
TASK_ID_RULE = f"1-{TASK_ID_MAX_LENGTH} characters of A-Z a-z 0-9 _ -"
# Step Functions limits every state's and task's input and output to 256 KiB (UTF-8 bytes),
# and fails an execution that crosses it with States.DataLimitExceeded, which no Catch can
# handle. The execution input is not the largest document: ProcessTask's Parameters wrap it
# with the function ARN, the attempt and the execution ARN (< 512 bytes for the longest names).
# The 1 KiB kept back makes every accepted task fit at every step, so it can always run or be
# dead-lettered.
STEP_FUNCTIONS_DATA_LIMIT_BYTES = 256 * 1024
TASK_ENVELOPE_HEADROOM_BYTES = 1024
MAX_WORKFLOW_INPUT_BYTES = STEP_FUNCTIONS_DATA_LIMIT_BYTES - TASK_ENVELOPE_HEADROOM_BYTES
# How deeply a payload may nest objects and arrays (the payload object itself is level 1).
# Whatever is accepted must parse everywhere downstream: the starter reads queue messages with
# pydantic's JSON parser, which stops at 200 levels; 64 stays well below it (and below
# serde_json's 128), and far above any real task.
MAX_PAYLOAD_DEPTH = 64
# Execution names stay reserved for 90 days after an execution ends; the task record lives
# as long, so a duplicate submission is recognised for as long as its name is taken.
TASK_RECORD_TTL_DAYS = 90


class TaskStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class TaskSubmission(BaseModel):
    """The body of `POST /tasks`. Strict: a number is not a taskId, a list is not a payload."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    task_id: StrictStr = Field(
        alias="taskId",
        min_length=1,
        max_length=TASK_ID_MAX_LENGTH,
        pattern=TASK_ID_PATTERN,
        description="1-80 characters of A-Z a-z 0-9 _ -; becomes the execution name.",
    )
    payload: dict[str, Any] = Field(description="Any JSON object.")

    def workflow_input(self) -> WorkflowInput:
        return WorkflowInput(task_id=self.task_id, payload=self.payload)


class WorkflowInput(BaseModel):
    """The input of one workflow execution, and the body of a task-queue message."""

    model_config = ConfigDict(populate_by_name=True)

    task_id: str = Field(alias="taskId")
    payload: dict[str, Any]

    def to_json(self) -> str:
        return canonical_json(self.model_dump(by_alias=True))

    def size_bytes(self) -> int:
        return len(self.to_json().encode("utf-8"))


class TaskResult(BaseModel):
    """What process-task returns on success (the execution's output)."""

    model_config = ConfigDict(populate_by_name=True)

    task_id: str = Field(alias="taskId")
    payload_digest: str = Field(alias="payloadDigest")
    attempt: int
    processed_at: str = Field(alias="processedAt")


class DeadLetter(BaseModel):
    """A dead-lettered task as the monitor reports it, whichever way it got to the DLQ.

    `workflow`: the workflow's Catch sent it (error and cause known).
    `intake`: SQS moved a task message the starter could not start after maxReceiveCount.
    """

    model_config = ConfigDict(populate_by_name=True)

    source: Literal["workflow", "intake"]
    task_id: str | None = Field(default=None, alias="taskId")
    error: str | None = None
    cause: str | None = None
    execution_arn: str | None = Field(default=None, alias="executionArn")
    failed_at: str | None = Field(default=None, alias="failedAt")


def canonical_json(value: Any) -> str:
    """Compact JSON with sorted keys: the same document always gives the same bytes."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def payload_digest(payload: dict[str, Any]) -> str:
    """SHA-256 of the canonical payload: how a duplicate is told from a conflicting reuse."""
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and a Z, as the records and the API write times."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str | None) -> datetime | None:
    """A time the records or the API wrote (naive means UTC); None when absent or not a time."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
