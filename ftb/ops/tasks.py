"""Tasks as an operator sees them: records and executions, read through the task domain.

A record's `executionName` is its latest run; `runs` (written by `ftb redrive`) holds the
names of the earlier ones, oldest first. Run 1 is the first execution (named after the
taskId), run N the (N-1)th redrive. The status of the current run is get-task's own mapping
(`task_domain.status`): no execution yet is QUEUED, unless the monitor recorded a dead
letter for it (then FAILED, stopped when it was dead-lettered).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ftb.ops.output import EXIT_FAILED, CommandError
from task_domain import records
from task_domain.models import TaskStatus, iso, parse_iso
from task_domain.naming import execution_arn as _execution_arn
from task_domain.naming import execution_name_of
from task_domain.records import TaskRecord
from task_domain.status import (
    FAILED_EXECUTION_STATUSES,
    default_error,
    describe_execution,
    parse_output,
    view_from_execution,
    view_without_execution,
)

CLIENT_STATUSES = tuple(status.value for status in TaskStatus)


def execution_arn(state_machine_arn: str, execution_name: str) -> str:
    """The domain's execution ARN, refused as a command error (a wrong stack output)."""
    try:
        return _execution_arn(state_machine_arn, execution_name)
    except ValueError:
        raise CommandError(
            f"{state_machine_arn!r} is not a state machine ARN",
            "check the stack's StateMachineArn output",
        ) from None


def require_record(table: Any, task_id: str) -> TaskRecord:
    record = records.get(table, task_id)
    if record is None:
        raise CommandError(
            f"task {task_id} is unknown (no record in the tasks table)",
            "check the taskId (`ftb tasks` lists them); records expire 90 days after submission",
            EXIT_FAILED,
        )
    return record


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
        body["start_date"] = iso(self.start_date) if self.start_date else None
        body["stop_date"] = iso(self.stop_date) if self.stop_date else None
        return {_camel(key): value for key, value in body.items() if value not in (None, [])}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def task_state(sfn: Any, state_machine_arn: str, record: TaskRecord) -> TaskState:
    names = record.run_names
    arn = execution_arn(state_machine_arn, names[-1])
    dead_letter = record.dead_letter.model_dump(exclude_none=True) if record.dead_letter else None
    state = TaskState(
        task_id=record.task_id,
        status=TaskStatus.QUEUED.value,
        run=len(names),
        execution_name=names[-1],
        submitted_at=record.submitted_at,
        dead_letter=dead_letter,
        runs=names,
    )
    execution = describe_execution(sfn, arn)
    if execution is None:
        view = view_without_execution(record)
    else:
        view = view_from_execution(record, arn, execution)
        state.execution_status = str(execution.get("status", "RUNNING"))
        state.execution_arn = arn
    state.status = view.status.value
    state.error, state.cause, state.result = view.error, view.cause, view.result
    # Times as datetimes from the execution itself (durations); a dead letter's from the view.
    state.start_date = execution.get("startDate") if execution else None
    state.stop_date = execution.get("stopDate") if execution else parse_iso(view.stop_date)
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
            "failedAt": iso(self.failed_at) if self.failed_at else None,
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
    described = describe_execution(sfn, arn) or {}
    error, cause = described.get("error"), described.get("cause")
    if error is None and cause is None:
        # Not every endpoint puts them on DescribeExecution: the last event has them.
        last = sfn.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=1)
        for event in last.get("events", []):
            for key, value in event.items():
                if key.endswith("EventDetails") and isinstance(value, dict):
                    error, cause = value.get("error"), value.get("cause")
    raw_status = str(execution.get("status") or described.get("status") or "FAILED")
    fallback_error, fallback_cause = default_error(raw_status)
    name = str(execution.get("name") or execution_name_of(arn))
    return FailedRun(
        task_id=task_id_of_input(described.get("input")) or name,
        source=_SOURCES.get(raw_status, raw_status.lower()),
        error=error or fallback_error,
        cause=cause or fallback_cause or None,
        failed_at=execution.get("stopDate") or described.get("stopDate"),
        execution_name=name,
        execution_arn=arn,
    )


def intake_dead_letters(table: Any, since: datetime) -> list[FailedRun]:
    """Tasks the monitor marked dead-lettered before any execution existed."""
    from boto3.dynamodb.conditions import Attr

    runs = []
    for record in records.scan_tasks(table, filter_expression=Attr("deadLetter").exists()):
        note = record.dead_letter
        if note is None or note.source != "intake":
            continue
        at = parse_iso(note.at)
        if at is not None and at < since:
            continue
        runs.append(
            FailedRun(
                task_id=record.task_id,
                source="intake",
                error=note.error,
                cause=note.cause,
                failed_at=at,
                execution_name=record.execution_name,
                current_run=record.execution_name,
            )
        )
    return runs


def dead_lettered(
    sfn: Any, table: Any, state_machine_arn: str, since: datetime, concurrency: int = 8
) -> list[FailedRun]:
    """Every failed run since `since`, newest first: failed executions + intake dead letters."""
    from ftb.ops.commands._common import bounded_map

    executions = failed_executions(sfn, state_machine_arn, since)
    runs = list(bounded_map(lambda execution: failure_of(sfn, execution), executions, concurrency))
    found = records.get_many(table, [run.task_id for run in runs])
    for run in runs:
        record = found.get(run.task_id)
        if record is not None:
            run.current_run = record.execution_name
    runs.extend(intake_dead_letters(table, since))
    epoch = datetime.min.replace(tzinfo=UTC)
    runs.sort(key=lambda run: run.failed_at or epoch, reverse=True)
    return runs
