"""`ftb history TASK_ID [--run N] [--data]`: a task's execution history, as the console shows it.

One row per event: id, type, the state it belongs to, the resource it called, the time since
the execution started, and details (the attempt number of each try, the backoff before a
retry, the error and cause of a failure; with `--data` the inputs and outputs too). Then a
summary: status, attempts, duration and billed state transitions.

Billed state transitions (Standard workflows are billed per transition, retries included):
one per state entered (`*StateEntered` events) plus one per retry (each task scheduling
after the first within one entry of a state). The execution's start is not a transition.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rich.markup import escape

from ftb.ops import tasks
from ftb.ops.commands._common import (
    add_common_arguments,
    human_seconds,
    iso,
    positive_int,
    resolve_target,
    run_guarded,
    task_id_arg,
)
from ftb.ops.output import EXIT_FAILED, EXIT_OK, CommandError, Output, styled_status
from task_domain.models import utc_now

# The workflow's work state (statemachine/task_workflow.asl.json): its tries are "attempts".
WORK_STATE = "ProcessTask"
_SCHEDULED = {"TaskScheduled", "LambdaFunctionScheduled", "ActivityScheduled"}
_TRY_EVENTS = _SCHEDULED | {
    "TaskStarted",
    "TaskSubmitted",
    "TaskSucceeded",
    "TaskFailed",
    "TaskTimedOut",
    "TaskStartFailed",
    "TaskSubmitFailed",
    "LambdaFunctionStarted",
    "LambdaFunctionSucceeded",
    "LambdaFunctionFailed",
    "LambdaFunctionTimedOut",
    "LambdaFunctionStartFailed",
    "LambdaFunctionScheduleFailed",
    "ActivityStarted",
    "ActivitySucceeded",
    "ActivityFailed",
    "ActivityTimedOut",
}
_FAILED_TRY = {
    "TaskFailed",
    "TaskTimedOut",
    "TaskStartFailed",
    "TaskSubmitFailed",
    "LambdaFunctionFailed",
    "LambdaFunctionTimedOut",
    "LambdaFunctionStartFailed",
    "LambdaFunctionScheduleFailed",
    "ActivityFailed",
    "ActivityTimedOut",
}
_MAX_DATA_CHARS = 400


@dataclass
class Row:
    id: int
    type: str
    step: str | None
    resource: str | None
    timestamp: datetime
    elapsed_seconds: float
    attempt: int | None = None
    backoff_seconds: float | None = None
    error: str | None = None
    cause: str | None = None
    input: Any = None
    output: Any = None

    def to_json(self) -> dict[str, Any]:
        body = {
            "id": self.id,
            "type": self.type,
            "step": self.step,
            "resource": self.resource,
            "timestamp": iso(self.timestamp),
            "elapsedSeconds": round(self.elapsed_seconds, 3),
            "attempt": self.attempt,
            "backoffSeconds": None
            if self.backoff_seconds is None
            else round(self.backoff_seconds, 3),
            "error": self.error,
            "cause": self.cause,
            "input": self.input,
            "output": self.output,
        }
        return {key: value for key, value in body.items() if value is not None}


@dataclass
class Analysis:
    rows: list[Row] = field(default_factory=list)
    states_entered: int = 0
    retries: int = 0
    attempts: int = 0

    @property
    def billed_transitions(self) -> int:
        return self.states_entered + self.retries


def _details(event: dict[str, Any]) -> dict[str, Any]:
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            return value
    return {}


def _data(raw: Any) -> Any:
    return tasks.parse_output(raw) if isinstance(raw, str) else raw


def _step_finder(by_id: dict[int, dict[str, Any]]) -> Callable[[int], str | None]:
    """The state an event belongs to: its events chain back (previousEventId) to the event
    that entered it. Each chain is walked once."""
    step_of: dict[int, str | None] = {}

    def step(event_id: int) -> str | None:
        chain = []
        current: int | None = event_id
        name = None
        while current is not None and current in by_id:
            if current in step_of:
                name = step_of[current]
                break
            chain.append(current)
            event = by_id[current]
            if event["type"].endswith(("StateEntered", "StateExited")):
                name = _details(event).get("name")
                break
            previous = event.get("previousEventId")
            current = int(previous) if previous else None
        for item in chain:
            step_of[item] = name
        return name

    return step


def _row(event: dict[str, Any], details: dict[str, Any], step: str | None, start: datetime) -> Row:
    resource = None
    if details.get("resourceType") and details.get("resource"):
        resource = f"{details['resourceType']}:{details['resource']}"
    return Row(
        id=int(event["id"]),
        type=str(event["type"]),
        step=step,
        resource=resource,
        timestamp=event["timestamp"],
        elapsed_seconds=(event["timestamp"] - start).total_seconds(),
        error=details.get("error"),
        cause=details.get("cause"),
        input=_data(details.get("input", details.get("parameters"))),
        output=_data(details.get("output")),
    )


def analyse(events: list[dict[str, Any]], started: datetime | None = None) -> Analysis:
    """Rows for the table and the counts for the summary line."""
    ordered = sorted(events, key=lambda event: int(event["id"]))
    by_id = {int(event["id"]): event for event in ordered}
    tries: dict[str, int] = {}  # state -> schedulings in its current entry
    last_failure: dict[str, datetime] = {}
    # Times count from the ExecutionStarted event, as the console's "Started after" does.
    first = next((e for e in ordered if e["type"] == "ExecutionStarted"), None)
    start = (
        first["timestamp"]
        if first
        else started or (ordered[0]["timestamp"] if ordered else utc_now())
    )
    analysis = Analysis()

    step = _step_finder(by_id)

    for event in ordered:
        event_type = str(event["type"])
        details = _details(event)
        # Execution events belong to no state (the console leaves their step empty).
        name = None if event_type.startswith("Execution") else step(int(event["id"]))
        row = _row(event, details, name, start)
        if event_type.endswith("StateEntered"):
            analysis.states_entered += 1
            if name is not None:
                tries[name] = 0
        elif event_type in _TRY_EVENTS and name is not None:
            if event_type in _SCHEDULED:
                tries[name] = tries.get(name, 0) + 1
                if tries[name] > 1:
                    analysis.retries += 1
                    if name in last_failure:
                        row.backoff_seconds = (
                            event["timestamp"] - last_failure[name]
                        ).total_seconds()
                if name == WORK_STATE:
                    analysis.attempts += 1
            row.attempt = tries.get(name) or None
            if event_type in _FAILED_TRY:
                last_failure[name] = event["timestamp"]
        analysis.rows.append(row)
    return analysis


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "history",
        help="a task's execution history, as the Step Functions console shows it",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("task_id", type=task_id_arg, metavar="TASK_ID")
    parser.add_argument(
        "--run",
        type=positive_int,
        metavar="N",
        help="which run: 1 is the first execution, each redrive adds one (default: the latest)",
    )
    parser.add_argument("--data", action="store_true", help="show each event's input and output")
    add_common_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return run_guarded(args, _run)


def fetch_history(sfn: Any, arn: str, include_data: bool) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "executionArn": arn,
        "includeExecutionData": include_data,
        "maxResults": 1000,
    }
    while True:
        page = sfn.get_execution_history(**kwargs)
        events.extend(page.get("events", []))
        if not page.get("nextToken"):
            return events
        kwargs["nextToken"] = page["nextToken"]


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return text if len(text) <= _MAX_DATA_CHARS else text[: _MAX_DATA_CHARS - 1] + "…"


def _row_details(row: Row, with_data: bool) -> str:
    parts = []
    if row.attempt is not None:
        parts.append(f"attempt {row.attempt}")
    if row.backoff_seconds is not None:
        parts.append(f"retry after {human_seconds(row.backoff_seconds)}")
    if row.error or row.cause:
        cause = tasks.cause_summary(row.cause, 200)
        parts.append(f"[red]{escape(row.error or '')}[/]" + (f": {escape(cause)}" if cause else ""))
    if with_data and row.input is not None:
        parts.append(f"input: {escape(_short(row.input))}")
    if with_data and row.output is not None:
        parts.append(f"output: {escape(_short(row.output))}")
    return " · ".join(parts)


def _count(number: int, singular: str, plural: str | None = None) -> str:
    return f"{number} {singular if number == 1 else plural or singular + 's'}"


def _run(args: argparse.Namespace, output: Output) -> int:
    target = resolve_target(args, output)
    record = tasks.require_record(target.table(), args.task_id)
    runs = record.run_names
    number = args.run or len(runs)
    if number > len(runs):
        raise CommandError(
            f"task {args.task_id} has {len(runs)} run(s), not {number}",
            f"pick --run 1..{len(runs)} (each redrive adds a run)",
        )
    arn = tasks.execution_arn(target.state_machine_arn, runs[number - 1])
    sfn = target.client("stepfunctions")
    execution = tasks.describe_execution(sfn, arn)
    if execution is None:
        dead_letter = record.dead_letter
        if dead_letter is not None and number == len(runs):
            raise CommandError(
                f"task {args.task_id} never started: it was dead-lettered before an execution "
                f"existed ({dead_letter.error}: {dead_letter.cause})",
                f"read why with `ftb logs {args.task_id}`; re-run it with "
                f"`ftb redrive {args.task_id} --payload @payload.json`",
                EXIT_FAILED,
            )
        output.line(f"task {args.task_id} run {number} has no execution yet (QUEUED)")
        output.note(f"check again shortly: `ftb status {args.task_id}`")
        return EXIT_OK
    events = fetch_history(sfn, arn, args.data)
    analysis = analyse(events, execution.get("startDate"))
    status = str(execution.get("status"))
    started = execution.get("startDate")
    stopped = execution.get("stopDate")
    duration = ((stopped or utc_now()) - started).total_seconds() if started else 0.0
    summary = {
        "status": status,
        "attempts": analysis.attempts,
        "durationSeconds": round(duration, 3),
        "billedStateTransitions": analysis.billed_transitions,
        "statesEntered": analysis.states_entered,
        "retries": analysis.retries,
    }
    if output.json_mode:
        output.json(
            {
                "taskId": args.task_id,
                "run": number,
                "runs": len(runs),
                "executionArn": arn,
                "startDate": iso(started),
                "stopDate": iso(stopped),
                "summary": summary,
                "events": [row.to_json() for row in analysis.rows],
            }
        )
    else:
        rows = [
            [
                str(row.id),
                escape(row.type),
                escape(row.step or ""),
                escape(row.resource or ""),
                human_seconds(row.elapsed_seconds),
                _row_details(row, args.data),
            ]
            for row in analysis.rows
        ]
        output.table(
            ["ID", "Type", "Step", "Resource", "Started after", "Details"],
            rows,
            title=f"{args.task_id} · run {number} of {len(runs)} · {runs[number - 1]}",
            overflow_columns=["Details"],
        )
        running = " so far" if stopped is None else ""
        output.line(
            f"{styled_status(status)} · {_count(analysis.attempts, 'attempt')} · "
            f"{human_seconds(duration)}{running} · "
            f"{_count(analysis.billed_transitions, 'billed state transition')} "
            f"({_count(analysis.states_entered, 'state')} entered + "
            f"{_count(analysis.retries, 'retry', 'retries')})"
        )
        if number < len(runs):
            output.note(f"a later run exists: `ftb history {args.task_id}` shows the latest")
    # It showed what was asked: a failed run is what the history is for, not an error.
    return EXIT_OK
