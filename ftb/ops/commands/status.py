"""`ftb status TASK_ID...` (through the API, as a client sees it) and `ftb tasks` (a listing).

`ftb tasks` scans the tasks table and asks Step Functions for each record's current run
(DescribeExecution, a bounded number at a time), newest submissions first; with `--status`
it keeps going until `--limit` tasks match.
"""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

from rich.markup import escape

from ftb.ops import task_api, tasks
from ftb.ops.api_auth import Authorize
from ftb.ops.commands._common import (
    DEFAULT_CONCURRENCY,
    add_common_arguments,
    bounded_map,
    human_seconds,
    positive_int,
    resolve_target,
    run_guarded,
    short_time,
    task_id_arg,
)
from ftb.ops.output import EXIT_FAILED, EXIT_OK, CommandError, Output, styled_status
from task_domain import records
from task_domain.models import parse_iso

DEFAULT_LIMIT = 50


def register(subparsers: Any) -> None:
    status = subparsers.add_parser(
        "status",
        help="what each task is doing (GET /tasks/{taskId})",
        description="The status of each task as GET /tasks/{taskId} reports it. "
        "Exit code 1 when a task is unknown or FAILED.",
    )
    status.add_argument("task_ids", nargs="+", type=task_id_arg, metavar="TASK_ID")
    add_common_arguments(status)
    status.set_defaults(func=run_status)

    listing = subparsers.add_parser(
        "tasks",
        help="list tasks and their status, newest first",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    listing.add_argument(
        "--status",
        type=str.upper,
        choices=tasks.CLIENT_STATUSES,
        help="only tasks in this status",
    )
    listing.add_argument(
        "--limit",
        type=positive_int,
        default=DEFAULT_LIMIT,
        help=f"at most this many tasks ({DEFAULT_LIMIT})",
    )
    add_common_arguments(listing)
    listing.set_defaults(func=run_tasks)


# --- ftb status ------------------------------------------------------------------------------


def run_status(args: argparse.Namespace) -> int:
    return run_guarded(args, _status)


def _fetch(endpoint: str, task_id: str, auth: Authorize | None) -> tuple[str, task_api.HttpAnswer]:
    return task_id, task_api.request("GET", task_api.task_url(endpoint, task_id), auth=auth)


def _details(view: dict[str, Any]) -> str:
    if view.get("status") == "FAILED":
        # GET /tasks/{taskId} gives callers the error and a message, never the cause.
        error = view.get("error") or ""
        message = " ".join(str(view.get("message") or "").split())
        return f"{error}: {message}" if message else str(error)
    if view.get("status") == "SUCCEEDED" and isinstance(view.get("result"), dict):
        result = view["result"]
        attempt = result.get("attempt")
        return f"processed on attempt {attempt}" if attempt else ""
    return ""


def _status(args: argparse.Namespace, output: Output) -> int:
    target = resolve_target(args, output)
    endpoint = target.tasks_endpoint
    auth = target.api_auth
    answers = list(
        bounded_map(
            lambda task_id: _fetch(endpoint, task_id, auth), args.task_ids, DEFAULT_CONCURRENCY
        )
    )
    views: list[dict[str, Any]] = []
    for task_id, answer in answers:
        if answer.status == 200 and isinstance(answer.body, dict):
            views.append(answer.body)
        elif answer.status == 404:
            views.append({"taskId": task_id, "status": "UNKNOWN", "message": answer.message})
        elif answer.status == 0:
            raise CommandError(
                f"the API at {endpoint} does not answer ({answer.message})",
                "check that the local cloud runs (`make run`)"
                if target.kind == "local"
                else "check your network and the stack's ApiUrl output",
            )
        else:
            views.append(
                {
                    "taskId": task_id,
                    "status": "ERROR",
                    "message": f"HTTP {answer.status}: {answer.message}",
                }
            )
    if output.json_mode:
        output.json(views)
    else:
        rows = []
        for view in views:
            execution = str(view.get("executionArn") or "").rsplit(":", 1)[-1]
            started, stopped = parse_iso(view.get("startDate")), parse_iso(view.get("stopDate"))
            duration = (
                human_seconds((stopped - started).total_seconds()) if started and stopped else ""
            )
            # A task's own view says why it failed in `message` too: _details pairs it with
            # the error; an UNKNOWN or ERROR row's message is ftb's.
            known = view["status"] in ("FAILED", "SUCCEEDED")
            details = _details(view) if known else view.get("message") or _details(view)
            rows.append(
                [
                    escape(str(view["taskId"])),
                    styled_status(str(view["status"]))
                    if view["status"] != "UNKNOWN"
                    else "[red]UNKNOWN[/]",
                    escape(execution),
                    short_time(parse_iso(view.get("submittedAt"))),
                    duration,
                    escape(str(details)),
                ]
            )
        output.table(
            ["Task", "Status", "Execution", "Submitted", "Duration", "Details"],
            rows,
            overflow_columns=["Details"],
        )
        unknown = [view["taskId"] for view in views if view["status"] == "UNKNOWN"]
        if unknown:
            output.note("unknown tasks: check the taskId, or list tasks with `ftb tasks`")
        failed = [view["taskId"] for view in views if view["status"] == "FAILED"]
        if failed:
            output.note(
                f"failed: see why with `ftb history {failed[0]}` and `ftb logs {failed[0]}`; "
                f"re-run after a fix with `ftb redrive {' '.join(failed)}`"
            )
    bad = {"UNKNOWN", "FAILED", "ERROR"}
    return EXIT_FAILED if any(view["status"] in bad for view in views) else EXIT_OK


# --- ftb tasks -------------------------------------------------------------------------------


def run_tasks(args: argparse.Namespace) -> int:
    return run_guarded(args, _list)


def list_tasks(
    target: Any, status: str | None, limit: int, concurrency: int = DEFAULT_CONCURRENCY
) -> tuple[list[tasks.TaskState], int]:
    """(the tasks, how many records were looked at), newest submission first."""
    found_records = records.scan_tasks(target.table())
    found_records.sort(key=lambda record: record.submitted_at, reverse=True)
    sfn = target.client("stepfunctions")
    state_machine_arn = target.state_machine_arn
    found: list[tasks.TaskState] = []
    looked_at = 0
    chunk = max(concurrency * 4, limit if status is None else 0)
    for start in range(0, len(found_records), chunk):
        batch = found_records[start : start + chunk]
        looked_at += len(batch)
        states = bounded_map(
            lambda record: tasks.task_state(sfn, state_machine_arn, record), batch, concurrency
        )
        found.extend(state for state in states if status is None or state.status == status)
        if len(found) >= limit:
            break
    return found[:limit], looked_at


def _list(args: argparse.Namespace, output: Output) -> int:
    target = resolve_target(args, output)
    states, looked_at = list_tasks(target, args.status, args.limit)
    if output.json_mode:
        output.json([state.to_json() for state in states])
        return EXIT_OK
    rows = []
    for state in states:
        duration = ""
        if state.start_date and state.stop_date:
            duration = human_seconds((state.stop_date - state.start_date).total_seconds())
        details = _details(
            {
                "status": state.status,
                "error": state.error,
                "cause": state.cause,
                "result": state.result,
            }
        )
        rows.append(
            [
                escape(state.task_id),
                styled_status(state.status),
                str(state.run),
                short_time(parse_iso(state.submitted_at)),
                duration,
                escape(details),
            ]
        )
    counts = Counter(state.status for state in states)
    caption = ", ".join(f"{count} {name}" for name, count in sorted(counts.items())) or "no tasks"
    scope = f"{args.status} tasks" if args.status else "tasks"
    output.table(
        ["Task", "Status", "Run", "Submitted", "Duration", "Details"],
        rows,
        title=f"{len(states)} {scope} (newest first; {looked_at} records looked at)",
        caption=caption,
        overflow_columns=["Details"],
    )
    if len(states) == args.limit:
        output.note(f"showing the first {args.limit}: raise --limit to see more")
    return EXIT_OK
