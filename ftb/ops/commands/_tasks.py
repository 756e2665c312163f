"""Task records and their executions, read the way GET /tasks reads them.

A record's `executionName` is its latest run; `runs` (written by `ftb redrive`) holds the
names of the earlier ones, oldest first. Run 1 is the first execution (named after the
taskId), run N the (N-1)th redrive. The status rules are get-task's
(handlers/shared/task_status.py): no execution yet is QUEUED, unless the monitor recorded
a dead letter for it (then FAILED).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from ftb.ops.commands._common import is_code, iso
from ftb.ops.commands._common import parse_iso as _parse_iso
from ftb.ops.output import EXIT_FAILED, CommandError

# DescribeExecution status -> what clients see (as get-task maps it).
CLIENT_STATUS = {
    "RUNNING": "RUNNING",
    "PENDING_REDRIVE": "RUNNING",
    "SUCCEEDED": "SUCCEEDED",
    "FAILED": "FAILED",
    "TIMED_OUT": "FAILED",
    "ABORTED": "FAILED",
}
FAILED_EXECUTION_STATUSES = ("FAILED", "TIMED_OUT", "ABORTED")
_DEFAULT_ERRORS = {
    "TIMED_OUT": ("States.Timeout", "The execution timed out."),
    "ABORTED": ("States.Aborted", "The execution was stopped."),
}
CLIENT_STATUSES = ("QUEUED", "RUNNING", "SUCCEEDED", "FAILED")


def execution_arn(state_machine_arn: str, execution_name: str) -> str:
    """arn:P:states:R:A:stateMachine:NAME -> arn:P:states:R:A:execution:NAME:execution_name.

    A copy of handlers/shared/task_status.py's (which raises ValueError, not a CommandError);
    tests/unit/test_ftb_handler_parity.py keeps the two equal.
    """
    parts = state_machine_arn.split(":")
    if len(parts) != 7 or parts[5] != "stateMachine":
        raise CommandError(
            f"{state_machine_arn!r} is not a state machine ARN",
            "check the stack's StateMachineArn output",
        )
    return ":".join([*parts[:5], "execution", parts[6], execution_name])


def execution_name_of(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]


def run_names(record: dict[str, Any]) -> list[str]:
    """Every execution name of the task, oldest first; the last is the current run."""
    earlier = [str(name) for name in record.get("runs") or []]
    return [*earlier, str(record.get("executionName") or record["taskId"])]


def get_record(table: Any, task_id: str) -> dict[str, Any] | None:
    item = table.get_item(Key={"taskId": task_id}, ConsistentRead=True).get("Item")
    return dict(item) if item else None


def require_record(table: Any, task_id: str) -> dict[str, Any]:
    record = get_record(table, task_id)
    if record is None:
        raise CommandError(
            f"task {task_id} is unknown (no record in the tasks table)",
            "check the taskId (`ftb tasks` lists them); records expire 90 days after submission",
            EXIT_FAILED,
        )
    return record


def scan_records(table: Any, *, filter_expression: Any = None) -> list[dict[str, Any]]:
    """Every task record (a full scan: an operator's listing, not a hot path)."""
    kwargs: dict[str, Any] = {}
    if filter_expression is not None:
        kwargs["FilterExpression"] = filter_expression
    records: list[dict[str, Any]] = []
    while True:
        page = table.scan(**kwargs)
        records.extend(dict(item) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return [record for record in records if not record.get("reservedFor")]
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def describe(sfn: Any, arn: str) -> dict[str, Any] | None:
    """DescribeExecution, or None when there is no such execution."""
    try:
        return dict(sfn.describe_execution(executionArn=arn))
    except ClientError as exc:
        if is_code(exc, "ExecutionDoesNotExist"):
            return None
        raise


def parse_output(raw: str | None) -> Any:
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw


@dataclass
class TaskState:
    """One task as an operator sees it: its current run and what it is doing."""

    task_id: str
    status: str  # QUEUED | RUNNING | SUCCEEDED | FAILED
    run: int
    execution_name: str
    execution_status: str | None = None  # the raw Step Functions status
    execution_arn: str | None = None
    submitted_at: str | None = None
    start_date: datetime | None = None
    stop_date: datetime | None = None
    error: str | None = None
    cause: str | None = None
    result: Any = None
    dead_letter: dict[str, Any] | None = None
    runs: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["start_date"] = iso(self.start_date)
        body["stop_date"] = iso(self.stop_date)
        return {_camel(key): value for key, value in body.items() if value not in (None, [])}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def task_state(sfn: Any, state_machine_arn: str, record: dict[str, Any]) -> TaskState:
    names = run_names(record)
    arn = execution_arn(state_machine_arn, names[-1])
    dead_letter = record.get("deadLetter") if isinstance(record.get("deadLetter"), dict) else None
    state = TaskState(
        task_id=str(record["taskId"]),
        status="QUEUED",
        run=len(names),
        execution_name=names[-1],
        submitted_at=record.get("submittedAt"),
        dead_letter=dead_letter,
        runs=names,
    )
    execution = describe(sfn, arn)
    if execution is None:
        if dead_letter is not None:
            state.status = "FAILED"
            state.error = dead_letter.get("error")
            state.cause = dead_letter.get("cause")
        return state
    raw = str(execution.get("status", "RUNNING"))
    state.execution_status = raw
    state.execution_arn = arn
    state.status = CLIENT_STATUS.get(raw, "RUNNING")
    state.start_date = execution.get("startDate")
    state.stop_date = execution.get("stopDate")
    if state.status == "SUCCEEDED":
        state.result = parse_output(execution.get("output"))
    elif state.status == "FAILED":
        default_error, default_cause = _DEFAULT_ERRORS.get(raw, (raw, ""))
        state.error = execution.get("error") or default_error
        state.cause = execution.get("cause") or default_cause
    return state


def cause_summary(cause: str | None, limit: int = 160) -> str:
    """The readable part of a cause: a Lambda error's JSON becomes its errorMessage."""
    if not cause:
        return ""
    text = cause
    parsed = parse_output(cause)
    if isinstance(parsed, dict) and parsed.get("errorMessage"):
        text = str(parsed["errorMessage"])
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class FailedRun:
    """One failed execution (or an intake dead letter, which has none) of a task."""

    task_id: str
    source: str  # workflow | timed-out | aborted | intake
    error: str | None
    cause: str | None
    failed_at: datetime | None
    execution_name: str | None = None
    execution_arn: str | None = None
    current_run: str | None = None  # the record's executionName now (None: no record)

    @property
    def redriven(self) -> bool:
        return self.current_run is not None and self.current_run != self.execution_name

    def to_json(self) -> dict[str, Any]:
        body = {
            "taskId": self.task_id,
            "source": self.source,
            "error": self.error,
            "cause": self.cause,
            "failedAt": iso(self.failed_at),
            "executionName": self.execution_name,
            "executionArn": self.execution_arn,
            "redriven": self.redriven,
            "currentExecutionName": self.current_run,
        }
        return {key: value for key, value in body.items() if value is not None}


_SOURCES = {"FAILED": "workflow", "TIMED_OUT": "timed-out", "ABORTED": "aborted"}
# Executions of this workflow finish within minutes: one that started this long before the
# window cannot have stopped inside it, so listing (newest first) can stop there.
_MAX_EXECUTION_DURATION = timedelta(hours=1)


def failed_executions(sfn: Any, state_machine_arn: str, since: datetime) -> list[dict[str, Any]]:
    """Executions that FAILED, TIMED_OUT or were ABORTED and stopped after `since`."""
    found: list[dict[str, Any]] = []
    for status in FAILED_EXECUTION_STATUSES:
        kwargs: dict[str, Any] = {
            "stateMachineArn": state_machine_arn,
            "statusFilter": status,
            "maxResults": 1000,
        }
        while True:
            page = sfn.list_executions(**kwargs)
            executions = page.get("executions", [])
            for execution in executions:
                stopped = execution.get("stopDate") or execution.get("startDate")
                if stopped is not None and stopped >= since:
                    found.append(dict(execution))
            oldest = min((e["startDate"] for e in executions), default=None)
            if not page.get("nextToken") or (
                oldest is not None and oldest < since - _MAX_EXECUTION_DURATION
            ):
                break
            kwargs["nextToken"] = page["nextToken"]
    return found


def task_id_of_input(raw: str | None) -> str | None:
    parsed = parse_output(raw)
    if isinstance(parsed, dict) and isinstance(parsed.get("taskId"), str):
        return str(parsed["taskId"])
    return None


def failure_of(sfn: Any, execution: dict[str, Any]) -> FailedRun:
    """Describe one failed execution: its task, error and cause."""
    arn = execution["executionArn"]
    described = describe(sfn, arn) or {}
    error, cause = described.get("error"), described.get("cause")
    if error is None and cause is None:
        # Not every endpoint puts them on DescribeExecution: the last event has them.
        last = sfn.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=1)
        for event in last.get("events", []):
            for key, value in event.items():
                if key.endswith("EventDetails") and isinstance(value, dict):
                    error, cause = value.get("error"), value.get("cause")
    raw_status = str(execution.get("status") or described.get("status") or "FAILED")
    default_error, default_cause = _DEFAULT_ERRORS.get(raw_status, (raw_status, ""))
    name = str(execution.get("name") or execution_name_of(arn))
    return FailedRun(
        task_id=task_id_of_input(described.get("input")) or name,
        source=_SOURCES.get(raw_status, raw_status.lower()),
        error=error or default_error,
        cause=cause or default_cause or None,
        failed_at=execution.get("stopDate") or described.get("stopDate"),
        execution_name=name,
        execution_arn=arn,
    )


def intake_dead_letters(table: Any, since: datetime) -> list[FailedRun]:
    """Tasks the monitor marked dead-lettered before any execution existed."""
    from boto3.dynamodb.conditions import Attr

    runs = []
    for record in scan_records(table, filter_expression=Attr("deadLetter").exists()):
        note = record.get("deadLetter")
        if not isinstance(note, dict) or note.get("source") != "intake":
            continue
        at = _parse_iso(note.get("at"))
        if at is not None and at < since:
            continue
        runs.append(
            FailedRun(
                task_id=str(record["taskId"]),
                source="intake",
                error=note.get("error"),
                cause=note.get("cause"),
                failed_at=at,
                execution_name=str(record.get("executionName") or record["taskId"]),
                current_run=str(record.get("executionName") or record["taskId"]),
            )
        )
    return runs


def batch_records(table: Any, task_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Records by taskId (consistent reads, in parallel-friendly batches of 100)."""
    records: dict[str, dict[str, Any]] = {}
    unique = list(dict.fromkeys(task_ids))
    client = table.meta.client
    for first in range(0, len(unique), 100):
        request: dict[str, Any] = {
            table.name: {
                "Keys": [{"taskId": task_id} for task_id in unique[first : first + 100]],
                "ConsistentRead": True,
            }
        }
        while request:
            answer = client.batch_get_item(RequestItems=request)
            for item in answer.get("Responses", {}).get(table.name, []):
                records[str(item["taskId"])] = dict(item)
            request = answer.get("UnprocessedKeys") or {}
    return records


def dead_lettered(
    sfn: Any, table: Any, state_machine_arn: str, since: datetime, concurrency: int = 8
) -> list[FailedRun]:
    """Every failed run since `since`, newest first: failed executions + intake dead letters."""
    from ftb.ops.commands._common import bounded_map

    executions = failed_executions(sfn, state_machine_arn, since)
    runs = list(bounded_map(lambda execution: failure_of(sfn, execution), executions, concurrency))
    records = batch_records(table, [run.task_id for run in runs])
    for run in runs:
        record = records.get(run.task_id)
        if record is not None:
            run.current_run = str(record.get("executionName") or record["taskId"])
    runs.extend(intake_dead_letters(table, since))
    epoch = datetime.min.replace(tzinfo=UTC)
    runs.sort(key=lambda run: run.failed_at or epoch, reverse=True)
    return runs
