"""`ftb logs TASK_ID [--since DURATION]`: every log line about a task, from every function.

One CloudWatch Logs Insights query (TASK_LOGS_QUERY, the README's query) across the stack's
log groups, on AWS and on the local cloud alike (its endpoint runs Insights); `--query` runs
any Insights query instead. The lines kept are those whose `taskId` field is the task, or
that name the task (or one of its runs) as a whole word, so `task-1` never matches `task-10`;
lines come out time-ordered.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from rich.markup import escape

from ftb.ops import tasks
from ftb.ops.commands._common import (
    add_common_arguments,
    iso,
    parse_duration,
    resolve_target,
    run_guarded,
    task_id_arg,
)
from ftb.ops.output import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CommandError, Output
from ftb.ops.target import STATE_MACHINE_LOG_GROUP, Target
from task_domain import records
from task_domain.models import parse_iso, utc_now
from task_domain.records import TaskRecord

# The README's "follow one task" query: keep the two in step.
TASK_LOGS_QUERY = (
    "fields @timestamp, @message, @log\n"
    '| filter taskId = "{task_id}" or @message like /{task_id}/\n'
    "| sort @timestamp asc\n"
    "| limit 10000"
)
INSIGHTS_LIMIT = 10000
INSIGHTS_MAX_LOG_GROUPS = 50  # StartQuery's limit per query
INSIGHTS_TIMEOUT_SECONDS = 300
# How often GetQueryResults is asked: AWS takes seconds, the local endpoint milliseconds.
POLL_SECONDS = {"aws": 1.0, "local": 0.1}
DEFAULT_QUERY_SINCE = timedelta(hours=1)
DEFAULT_TASK_SINCE = timedelta(days=1)  # when the task's record gives no submission time
LOCAL_FUNCTION_PREFIX = "/aws/lambda/"
LOGS_AFTER_END = timedelta(minutes=15)
# Fields of a Powertools JSON line worth showing next to its message.
_EXTRA_FIELDS = ("error", "cause", "attempt", "status", "receiveCount", "executionArn")


@dataclass
class LogLine:
    timestamp: datetime
    log_group: str
    message: str

    @property
    def fields(self) -> dict[str, Any] | None:
        if not self.message.lstrip().startswith("{"):
            return None
        try:
            parsed = json.loads(self.message)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "timestamp": iso(self.timestamp),
            "logGroup": self.log_group,
            "message": self.message,
        }
        if self.fields is not None:
            body["fields"] = self.fields
        return body


def task_logs_query(task_id: str) -> str:
    return TASK_LOGS_QUERY.format(task_id=task_id)


def matcher(task_id: str, names: list[str]) -> Any:
    """Does a line belong to the task: its taskId field, or one of its names as a word."""
    terms = "|".join(re.escape(name) for name in sorted({task_id, *names}, key=len, reverse=True))
    word = re.compile(rf"(?<![A-Za-z0-9_-])(?:{terms})(?![A-Za-z0-9_-])")

    def matches(line: LogLine) -> bool:
        fields = line.fields
        if fields is not None and fields.get("taskId") is not None:
            return fields.get("taskId") == task_id
        return bool(word.search(line.message))

    return matches


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "logs",
        help="every log line about a task, from every function, time-ordered",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("task_id", nargs="?", type=task_id_arg, metavar="TASK_ID")
    parser.add_argument(
        "--since",
        type=parse_duration,
        metavar="DURATION",
        help="how far back, e.g. 15m, 2h, 7d (default: since the task was submitted)",
    )
    parser.add_argument(
        "--query",
        metavar="INSIGHTS_QUERY",
        help="run this CloudWatch Logs Insights query on the stack's log groups",
    )
    add_common_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return run_guarded(args, _run)


# --- CloudWatch Logs Insights (AWS) ----------------------------------------------------------


def existing_log_groups(logs: Any, groups: list[str]) -> list[str]:
    """The groups that exist (a function's group appears at its first invocation)."""
    found = []
    for group in groups:
        page = logs.describe_log_groups(logGroupNamePrefix=group, limit=50)
        if any(item.get("logGroupName") == group for item in page.get("logGroups", [])):
            found.append(group)
    return found


def run_insights(
    logs: Any,
    groups: list[str],
    query: str,
    start: datetime,
    end: datetime,
    *,
    poll_seconds: float = 1.0,
    timeout_seconds: float = INSIGHTS_TIMEOUT_SECONDS,
) -> list[dict[str, str]]:
    """Rows ({field: value}, @ptr dropped) of one Insights query over up to 50 groups each."""
    rows: list[dict[str, str]] = []
    for first in range(0, len(groups), INSIGHTS_MAX_LOG_GROUPS):
        query_id = logs.start_query(
            logGroupNames=groups[first : first + INSIGHTS_MAX_LOG_GROUPS],
            startTime=int(start.timestamp()),
            endTime=int(end.timestamp()) + 1,
            queryString=query,
            limit=INSIGHTS_LIMIT,
        )["queryId"]
        deadline = time.monotonic() + timeout_seconds
        while True:
            answer = logs.get_query_results(queryId=query_id)
            status = answer.get("status")
            if status == "Complete":
                break
            if status in {"Failed", "Cancelled", "Timeout", "Unknown"}:
                raise CommandError(
                    f"the Logs Insights query ended {status}",
                    "narrow --since and try again; check the query in the CloudWatch console",
                    EXIT_FAILED,
                )
            if time.monotonic() > deadline:
                logs.stop_query(queryId=query_id)
                raise CommandError(
                    f"the Logs Insights query took longer than {timeout_seconds:.0f} s",
                    "narrow --since and try again",
                    EXIT_FAILED,
                )
            time.sleep(poll_seconds)
        for result in answer.get("results", []):
            rows.append(
                {
                    cell["field"]: cell.get("value", "")
                    for cell in result
                    if cell.get("field") != "@ptr"
                }
            )
    return rows


def insights_timestamp(value: str) -> datetime:
    """Insights gives '2024-05-01 12:00:00.123' (UTC); moto gives epoch milliseconds."""
    if value.isdigit():
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    parsed = parse_iso(value.replace(" ", "T"))
    return parsed or datetime.fromtimestamp(0, tz=UTC)


def insights_lines(rows: list[dict[str, str]]) -> list[LogLine]:
    lines = []
    for row in rows:
        group = row.get("@log", "")
        # @log is "account-id:log-group-name".
        group = (
            group.split(":", 1)[1] if ":" in group and group.split(":", 1)[0].isdigit() else group
        )
        lines.append(
            LogLine(
                insights_timestamp(row.get("@timestamp", "0")),
                group,
                row.get("@message", "").rstrip("\n"),
            )
        )
    return lines


# --- the local cloud's log groups ------------------------------------------------------------


def local_log_groups(logs: Any, target: Target) -> list[str]:
    groups = set(target.log_groups)
    paginator = logs.get_paginator("describe_log_groups")
    for page in paginator.paginate(logGroupNamePrefix=LOCAL_FUNCTION_PREFIX):
        groups.update(item["logGroupName"] for item in page.get("logGroups", []))
    state_machine_group = target.outputs.get(STATE_MACHINE_LOG_GROUP)
    if state_machine_group:
        groups.update(existing_log_groups(logs, [state_machine_group]))
    return sorted(groups)


# --- the command -----------------------------------------------------------------------------


def _short_group(group: str, stack: str) -> str:
    name = group.removeprefix(LOCAL_FUNCTION_PREFIX)
    return name.removeprefix(f"{stack}-")


def render_line(line: LogLine, stack: str) -> str:
    when = line.timestamp.astimezone().strftime("%H:%M:%S.%f")[:-3]
    source = _short_group(line.log_group, stack)
    fields = line.fields
    if fields is None:
        # Lambda writes a multi-line record (a traceback) as one event with \r separators.
        first, *rest = [part for part in re.split(r"[\r\n]+", line.message) if part.strip()] or [""]
        more = f" [dim](+{len(rest)} more lines; --json shows them)[/]" if rest else ""
        return f"[dim]{when}[/] [cyan]{escape(source)}[/] {escape(first)}{more}"
    level = str(fields.get("level", "")).upper()
    style = {"ERROR": "red", "WARNING": "yellow", "WARN": "yellow", "CRITICAL": "red"}.get(
        level, ""
    )
    level_text = f"[{style}]{level}[/]" if style else level
    extras = []
    for key in _EXTRA_FIELDS:
        value = fields.get(key)
        if value is None or value == "":
            continue
        if key == "cause":
            value = tasks.cause_summary(str(value), 160)
        if key == "executionArn":
            key, value = "execution", str(value).rsplit(":", 1)[-1]
        extras.append(f"{key}={value}")
    text = escape(str(fields.get("message", "")))
    if extras:
        text += " [dim]" + escape(" ".join(extras)) + "[/]"
    return f"[dim]{when}[/] [cyan]{escape(source)}[/] {level_text} {text}"


def stack_log_groups(logs: Any, target: Target) -> list[str]:
    """The stack's log groups that exist (the local cloud's functions' groups too)."""
    if target.kind == "local":
        return local_log_groups(logs, target)
    return existing_log_groups(logs, target.log_groups)


def _run_query(args: argparse.Namespace, target: Target, output: Output) -> int:
    logs = target.client("logs")
    groups = stack_log_groups(logs, target)
    if not groups:
        raise CommandError(
            f"stack {target.name} has no log groups yet",
            "invoke the API once (`ftb submit --task-id hello`), then query again",
            EXIT_FAILED,
        )
    end = utc_now()
    start = end - (args.since or DEFAULT_QUERY_SINCE)
    try:
        rows = run_insights(
            logs, groups, args.query, start, end, poll_seconds=POLL_SECONDS[target.kind]
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "MalformedQueryException":
            raise
        raise CommandError(
            f"the query is malformed: {error.response['Error'].get('Message', '')}",
            "fix it (CloudWatch Logs Insights query syntax), e.g. "
            "`fields @timestamp, @message | filter @message like /task123/`",
            EXIT_USAGE,
        ) from None
    if output.json_mode:
        output.json(rows)
        return EXIT_OK
    columns = list(dict.fromkeys(key for row in rows for key in row))
    output.table(
        columns,
        ([escape(row.get(column, "")) for column in columns] for row in rows),
        title=f"{len(rows)} rows from {len(groups)} log groups",
        overflow_columns=[column for column in columns if column == "@message"] or columns[-1:],
    )
    return EXIT_OK


def _window_end(target: Target, record: TaskRecord | None) -> datetime:
    """Insights bills by data scanned: stop a while after the task's latest run ended."""
    if record is None:
        return utc_now()
    current = tasks.execution_arn(target.state_machine_arn, record.execution_name)
    execution = tasks.describe_execution(target.client("stepfunctions"), current)
    stopped = execution.get("stopDate") if execution else None
    # The monitor's record of a dead letter follows the end within seconds.
    return min(utc_now(), stopped + LOGS_AFTER_END) if stopped else utc_now()


def _run(args: argparse.Namespace, output: Output) -> int:
    if args.query and args.task_id:
        raise CommandError("give a TASK_ID or --query, not both", "e.g. `ftb logs task123`")
    if not args.query and not args.task_id:
        raise CommandError(
            "which task? no TASK_ID given",
            "pass a taskId (`ftb logs task123`), or --query for any Insights query",
        )
    target = resolve_target(args, output)
    if args.query:
        return _run_query(args, target, output)
    task_id: str = args.task_id
    record = records.get(target.table(), task_id)
    names = record.run_names if record else [task_id]
    if args.since is not None:
        start = utc_now() - args.since
    else:
        submitted = parse_iso(record.submitted_at) if record else None
        start = (submitted - timedelta(minutes=1)) if submitted else utc_now() - DEFAULT_TASK_SINCE
    logs = target.client("logs")
    end = _window_end(target, record) if args.since is None else utc_now()
    groups = stack_log_groups(logs, target)
    rows = (
        run_insights(
            logs,
            groups,
            task_logs_query(task_id),
            start,
            end,
            poll_seconds=POLL_SECONDS[target.kind],
        )
        if groups
        else []
    )
    lines = insights_lines(rows)
    belongs = matcher(task_id, names)
    lines = sorted(
        (line for line in lines if belongs(line)), key=lambda line: (line.timestamp, line.log_group)
    )
    if output.json_mode:
        output.json([line.to_json() for line in lines])
    else:
        for line in lines:
            output.line(render_line(line, target.name))
        output.note(f"{len(lines)} lines from {len(groups)} log groups since {iso(start)}")
    if record is None:
        # Lines can name a task that was never accepted (a rejected POST logs its taskId):
        # they are shown, and the task is still unknown.
        found = f"{len(lines)} log lines name it" if lines else "no log lines"
        raise CommandError(
            f"task {task_id} is unknown: no record in the tasks table ({found} since {iso(start)})",
            "check the taskId (`ftb tasks`), or look further back with --since 7d",
            EXIT_FAILED,
        )
    if not lines:
        delay = "seconds" if target.kind == "local" else "a minute or two"
        output.note(f"no log lines yet: they arrive within {delay}; or widen --since")
    return EXIT_OK
