"""One task's page: its runs, and for the chosen run the graph, attempts, timeline and events.

Read through the operator commands' own code: the record and the current status from
ftb/ops/tasks.py (the task domain's mapping), the events and their attempts and backoffs from
`ftb history`'s analysis, the definition the run executed from DescribeStateMachineForExecution.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ftb.ops import tasks
from ftb.ops.commands.history import (
    _FAILED_TRY,
    _SCHEDULED,
    WORK_STATE,
    Row,
    analyse,
    fetch_history,
)
from ftb.ops.console import graph as graphs
from ftb.ops.target import Target
from task_domain import records
from task_domain.errors import PERMANENT_ERROR_NAME
from task_domain.models import iso, utc_now


class UnknownTask(LookupError):
    """No record for this taskId (or it is a redrive's name reservation)."""


class UnknownRun(LookupError):
    """The task has no such run."""


@dataclass
class Attempt:
    number: int
    state: str
    started: datetime
    ended: datetime | None
    outcome: str  # succeeded | failed | running
    error: str | None = None
    cause: str | None = None
    backoff_after_seconds: float | None = None  # the wait before the next attempt

    def to_json(self, start: datetime) -> dict[str, Any]:
        return {
            "number": self.number,
            "state": self.state,
            "startedAt": iso(self.started),
            "endedAt": iso(self.ended) if self.ended else None,
            "offsetSeconds": round((self.started - start).total_seconds(), 3),
            "durationSeconds": round(((self.ended or utc_now()) - self.started).total_seconds(), 3),
            "outcome": self.outcome,
            "error": self.error,
            "cause": self.cause,
            "message": tasks.cause_summary(self.cause, 300) or None,
            "backoffAfterSeconds": None
            if self.backoff_after_seconds is None
            else round(self.backoff_after_seconds, 3),
        }


def attempts_of(rows: list[Row], state: str = WORK_STATE) -> list[Attempt]:
    """Each try of the work state: its error and message, duration, and the backoff after it."""
    found: list[Attempt] = []
    for row in rows:
        if row.step != state:
            continue
        if row.type in _SCHEDULED:
            if found and row.backoff_seconds is not None:
                found[-1].backoff_after_seconds = row.backoff_seconds
            found.append(Attempt(len(found) + 1, state, row.timestamp, None, "running"))
        elif found and found[-1].ended is None:
            if row.type in _FAILED_TRY:
                found[-1].ended, found[-1].outcome = row.timestamp, "failed"
                found[-1].error, found[-1].cause = row.error, row.cause
            elif row.type.endswith("Succeeded"):
                found[-1].ended, found[-1].outcome = row.timestamp, "succeeded"
    return found


def timeline(rows: list[Row], attempts: list[Attempt], start: datetime) -> list[dict[str, Any]]:
    """Bars on one time axis (seconds since the start): states, attempts, backoffs."""
    bars: list[dict[str, Any]] = []
    entered: dict[str, datetime] = {}
    now = rows[-1].timestamp if rows else start

    def offset(moment: datetime) -> float:
        return round((moment - start).total_seconds(), 3)

    for row in rows:
        if row.type.endswith("StateEntered") and row.step:
            entered[row.step] = row.timestamp
        elif row.type.endswith("StateExited") and row.step in entered:
            began = entered.pop(row.step)
            bars.append(_bar("state", row.step, offset(began), offset(row.timestamp), ""))
    for name, began in entered.items():  # left by a failure or a catch, or still running
        bars.append(_bar("state", name, offset(began), offset(now), "not exited"))
    for attempt in attempts:
        ended = attempt.ended or now
        label = f"attempt {attempt.number}: {attempt.outcome}"
        if attempt.error:
            label += f" ({attempt.error})"
        bars.append(_bar("attempt", attempt.state, offset(attempt.started), offset(ended), label))
        if attempt.backoff_after_seconds is not None:
            bars.append(
                _bar(
                    "backoff",
                    attempt.state,
                    offset(ended),
                    offset(ended) + attempt.backoff_after_seconds,
                    f"backoff {attempt.backoff_after_seconds:.3f} s",
                )
            )
    return bars


def _bar(kind: str, state: str, begin: float, end: float, label: str) -> dict[str, Any]:
    return {"kind": kind, "state": state, "start": begin, "end": round(end, 3), "label": label}


def event_json(row: Row) -> dict[str, Any]:
    body = row.to_json()
    body["elapsedSeconds"] = round(row.elapsed_seconds, 3)
    return body


def task_page(target: Target, task_id: str, run: int | None) -> dict[str, Any]:
    """Everything the task page shows, for run `run` (1-based; default: the latest)."""
    table = target.table()
    sfn = target.client("stepfunctions")
    record = records.get_task(table, task_id)
    if record is None:
        raise UnknownTask(task_id)
    state = tasks.task_state(sfn, target.state_machine_arn, record)
    names = record.run_names
    number = run or len(names)
    if not 1 <= number <= len(names):
        raise UnknownRun(f"task {task_id} has {len(names)} run(s), not {number}")
    name = names[number - 1]
    arn = tasks.execution_arn(target.state_machine_arn, name)
    execution = tasks.describe_execution(sfn, arn)
    page: dict[str, Any] = {
        "taskId": task_id,
        "task": state.to_json(),
        "recordStatusField": record.status,
        "submittedAt": record.submitted_at,
        "runs": [
            {"run": index + 1, "executionName": run_name, "current": index + 1 == len(names)}
            for index, run_name in enumerate(names)
        ],
        "run": number,
        "executionName": name,
        "executionArn": arn,
        "deadLetter": _dead_letter(record, state, number == len(names)),
        "redrivable": state.execution_status in tasks.FAILED_EXECUTION_STATUSES
        or (state.execution_status is None and state.dead_letter is not None),
        "permanent": state.error == PERMANENT_ERROR_NAME,
        "commands": commands(target, task_id, arn),
    }
    if execution is None:
        page["execution"] = None
        return page
    events = fetch_history(sfn, arn, True)
    start = execution["startDate"]
    analysis = analyse(events, start)
    described = sfn.describe_state_machine_for_execution(executionArn=arn)
    status = str(execution.get("status"))
    attempts = attempts_of(analysis.rows)
    try:
        graph = graphs.run_graph(described["definition"], analysis.rows, status).to_json()
    except ValueError as error:
        graph = {"error": str(error)}
    stopped = execution.get("stopDate")
    page["execution"] = {
        "status": status,
        "startDate": iso(start),
        "stopDate": iso(stopped) if stopped else None,
        "durationSeconds": round(((stopped or utc_now()) - start).total_seconds(), 3),
        "error": execution.get("error"),
        "cause": execution.get("cause"),
        "input": tasks.parse_output(execution.get("input")),
        "output": tasks.parse_output(execution.get("output")),
        "stateMachineArn": described.get("stateMachineArn"),
        "definitionUpdated": iso(described["updateDate"]) if described.get("updateDate") else None,
        "billedStateTransitions": analysis.billed_transitions,
        "redriveCount": execution.get("redriveCount"),
    }
    page["graph"] = graph
    page["attempts"] = [attempt.to_json(start) for attempt in attempts]
    page["timeline"] = timeline(analysis.rows, attempts, start)
    page["events"] = [event_json(row) for row in analysis.rows]
    return page


def _dead_letter(record: Any, state: tasks.TaskState, current: bool) -> dict[str, Any] | None:
    """Where this task's dead letter is kept: the record's note (monitor-dlq), else the
    failed execution itself (the workflow's Catch sent it; the monitor consumed the message)."""
    if not current:
        return None
    if record.dead_letter is not None:
        note = record.dead_letter
        return {
            "keptIn": "the task's record (deadLetter, written by monitor-dlq)",
            "source": note.source,
            "error": note.error,
            "cause": note.cause,
            "at": note.at,
        }
    if state.execution_status in tasks.FAILED_EXECUTION_STATUSES:
        return {
            "keptIn": "the failed execution (its error and cause; kept 90 days)",
            "source": "workflow",
            "error": state.error,
            "cause": state.cause,
            "at": iso(state.stop_date) if state.stop_date else None,
        }
    return None


def commands(target: Target, task_id: str, arn: str) -> dict[str, str]:
    """The shell commands that show this task: a signed curl of GET /tasks/{id}, the AWS CLI."""
    from infra import names

    url = f"{target.tasks_endpoint}/{task_id}"
    mode = target.outputs.get(names.OUT_API_AUTHORIZATION, names.API_AUTH_NONE)
    if mode == names.API_AUTH_IAM:
        if target.kind == "local" and target.api_credentials is not None:
            user = f"{target.api_credentials[0]}:{target.api_credentials[1]}"
            auth = f'--aws-sigv4 "aws:amz:{target.region}:execute-api" --user {user} '
        else:
            auth = (
                f'--aws-sigv4 "aws:amz:{target.region}:execute-api" '
                '--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" '
                '-H "x-amz-security-token: $AWS_SESSION_TOKEN" '
            )
    elif mode == names.API_AUTH_API_KEY:
        key_id = target.outputs.get(names.OUT_API_KEY_ID, "")
        value = target.api_keys.get(key_id) if target.kind == "local" else None
        auth = (
            f'-H "x-api-key: {value}" '
            if value
            else f'-H "x-api-key: $(aws apigateway get-api-key --api-key {key_id} '
            '--include-value --query value --output text)" '
        )
    else:
        auth = ""
    if target.kind == "local":
        aws = (
            "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "
            f"aws --endpoint-url {target.endpoint_url} --region {target.region}"
        )
    elif target.profile:
        aws = f"aws --profile {target.profile} --region {target.region}"
    else:
        aws = f"aws --region {target.region}"
    return {
        "curl": f"curl -sS {auth}{url}",
        "describeExecution": f"{aws} stepfunctions describe-execution --execution-arn {arn}",
        "history": f"{aws} stepfunctions get-execution-history --execution-arn {arn}",
        "ftb": f"ftb history {task_id}"
        + ("" if target.kind == "local" else f" --stack {target.name} --region {target.region}"),
    }
