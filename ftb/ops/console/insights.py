"""Logs Insights over the stack's log groups: the task's lines (`ftb logs`' own query) and any
query from the editor, with the stack's saved queries (DescribeQueryDefinitions).

A malformed query comes back as the endpoint's MalformedQueryException message (which names the
line and column) and the location when it carries one; an endpoint that does not answer
DescribeQueryDefinitions is shown as refusing it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ftb.ops import tasks
from ftb.ops.commands import logs as ftb_logs
from ftb.ops.target import Target
from task_domain import records
from task_domain.models import iso, parse_iso, utc_now


class MalformedQuery(ValueError):
    def __init__(self, message: str, location: dict[str, Any] | None) -> None:
        super().__init__(message)
        self.location = location


def log_groups(target: Target) -> list[str]:
    return ftb_logs.stack_log_groups(target.client("logs"), target)


def run_query(
    target: Target, query: str, start: datetime, end: datetime, groups: list[str] | None
) -> list[dict[str, str]]:
    chosen = groups or log_groups(target)
    if not chosen:
        return []
    try:
        return ftb_logs.run_insights(
            target.client("logs"),
            chosen,
            query,
            start,
            end,
            poll_seconds=ftb_logs.POLL_SECONDS[target.kind],
        )
    except ClientError as error:
        body = error.response.get("Error", {})
        if body.get("Code") != "MalformedQueryException":
            raise
        response: dict[str, Any] = dict(error.response)
        location = (response.get("queryCompileError") or {}).get("location")
        raise MalformedQuery(str(body.get("Message", "")), location) from None


def saved_queries(target: Target) -> dict[str, Any]:
    logs = target.client("logs")
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"maxResults": 1000}
    try:
        while True:
            page = logs.describe_query_definitions(**kwargs)
            for item in page.get("queryDefinitions", []):
                found.append(
                    {
                        "name": item.get("name"),
                        "query": item.get("queryString"),
                        "logGroups": item.get("logGroupNames", []),
                    }
                )
            if not page.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextToken"]
    except (ClientError, BotoCoreError) as exc:
        message = (
            exc.response.get("Error", {}).get("Message", str(exc))
            if isinstance(exc, ClientError)
            else str(exc)
        )
        return {"queries": [], "refused": message}
    return {"queries": found}


def task_logs(target: Target, task_id: str) -> dict[str, Any]:
    """The task's lines across every function: `ftb logs TASK_ID`'s query, window and filter."""
    record = records.get(target.table(), task_id)
    names = record.run_names if record else [task_id]
    submitted = parse_iso(record.submitted_at) if record else None
    start = (
        (submitted - timedelta(minutes=1)) if submitted else utc_now() - ftb_logs.DEFAULT_TASK_SINCE
    )
    end = utc_now()
    query = ftb_logs.task_logs_query(task_id)
    groups = log_groups(target)
    rows = run_query(target, query, start, end, groups) if groups else []
    belongs = ftb_logs.matcher(task_id, names)
    lines = sorted(
        (line for line in ftb_logs.insights_lines(rows) if belongs(line)),
        key=lambda line: (line.timestamp, line.log_group),
    )
    shown = []
    for line in lines:
        fields = line.fields or {}
        shown.append(
            {
                "timestamp": iso(line.timestamp),
                "logGroup": line.log_group,
                "source": ftb_logs._short_group(line.log_group, target.name),
                "level": str(fields.get("level", "")).upper() or None,
                "message": str(fields.get("message", line.message)),
                "error": fields.get("error"),
                "cause": tasks.cause_summary(str(fields["cause"]), 300)
                if fields.get("cause")
                else None,
                "raw": line.message,
            }
        )
    return {
        "query": query,
        "start": iso(start),
        "end": iso(end),
        "logGroups": groups,
        "lines": shown,
    }
