"""The console's JSON: one function per page's data, each answering (status, body).

Bad input is a 400 with what was wrong; an unknown task a 404; an AWS refusal a 502 that
says which call failed and why. Nothing here has rules of its own: it calls the operator
commands' code (ftb/ops) and the task domain.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import BotoCoreError, ClientError

from ftb.ops import tasks
from ftb.ops.commands import redrive as ftb_redrive
from ftb.ops.commands._common import TASK_ID, bounded_map, parse_duration
from ftb.ops.console import insights, overview, task_index, task_view
from ftb.ops.console.task_index import TaskIndex
from ftb.ops.output import CommandError
from ftb.ops.target import Target
from task_domain.models import TASK_ID_RULE, iso, parse_iso, utc_now

Answer = tuple[int, Any]
MAX_REDRIVE = 100
_STATUSES = set(tasks.CLIENT_STATUSES)


class BadRequest(ValueError):
    pass


def _one(query: dict[str, list[str]], key: str) -> str | None:
    values = query.get(key)
    return values[-1] if values else None


def _duration(text: str | None, default: timedelta) -> timedelta:
    if not text:
        return default
    try:
        return parse_duration(text)
    except argparse.ArgumentTypeError as error:
        raise BadRequest(str(error)) from None


def _int(text: str | None, default: int, name: str) -> int:
    if text is None or text == "":
        return default
    try:
        return int(text)
    except ValueError:
        raise BadRequest(f"{name} must be a whole number, not {text!r}") from None


def _moment(text: str | None, name: str) -> datetime | None:
    if not text:
        return None
    moment = parse_iso(text)
    if moment is None:
        raise BadRequest(f"{name} must be an ISO-8601 time, e.g. 2024-05-01T12:00:00Z")
    return moment


def _task_id(text: str) -> str:
    task_id = unquote(text)
    if not TASK_ID.fullmatch(task_id):
        raise BadRequest(f"{task_id!r} is not a taskId ({TASK_ID_RULE})")
    return task_id


class ConsoleApi:
    def __init__(self, target: Target) -> None:
        self.target = target
        self.index = TaskIndex(target)

    # -- GET -------------------------------------------------------------------------

    def get(self, path: str, query: dict[str, list[str]]) -> Answer:
        parts = [part for part in path.split("/") if part][1:]  # after "api"
        try:
            if parts == ["overview"]:
                window = _duration(_one(query, "window"), timedelta(minutes=15))
                return 200, overview.overview(self.target, self.index, window)
            if parts == ["tasks"]:
                return 200, self._tasks(query)
            if len(parts) == 2 and parts[0] == "tasks":
                run = _one(query, "run")
                number = _int(run, 0, "run") or None
                return 200, task_view.task_page(self.target, _task_id(parts[1]), number)
            if len(parts) == 3 and parts[0] == "tasks" and parts[2] == "logs":
                return 200, insights.task_logs(self.target, _task_id(parts[1]))
            if parts == ["dead-letters"]:
                return 200, self._dead_letters(query)
            if parts == ["insights"]:
                return 200, self._insights_meta()
            if parts == ["index"]:  # the task snapshot's own figures (make bench reads them)
                rows, age = self.index.rows()
                return 200, {
                    "tasks": len(rows),
                    "ageSeconds": round(age, 3),
                    "refreshMs": round(self.index.refresh_seconds * 1000, 1),
                }
            if parts == ["target"]:
                return 200, {
                    "target": self.target.description,
                    "stack": self.target.name,
                    "kind": self.target.kind,
                }
        except BadRequest as error:
            return 400, {"error": str(error)}
        except task_view.UnknownTask as error:
            return 404, {
                "error": f"task {error} is unknown (no record in the tasks table)",
                "hint": "check the taskId on the tasks page; "
                "records expire 90 days after submission",
            }
        except task_view.UnknownRun as error:
            return 404, {"error": str(error)}
        except CommandError as error:
            return 502, {"error": error.message, "hint": error.hint}
        except (ClientError, BotoCoreError) as exc:
            return 502, _aws_error(exc, self.target)
        return 404, {"error": f"no such API: {path}"}

    def _tasks(self, query: dict[str, list[str]]) -> dict[str, Any]:
        status = _one(query, "status") or None
        if status is not None and status not in _STATUSES:
            raise BadRequest(f"status must be one of {', '.join(sorted(_STATUSES))}")
        since = _one(query, "since")
        return task_index.query(
            self.index,
            status=status,
            search=_one(query, "q"),
            since=utc_now() - _duration(since, timedelta()) if since else None,
            until=_moment(_one(query, "until"), "until"),
            page=_int(_one(query, "page"), 1, "page"),
            size=_int(_one(query, "size"), 50, "size"),
        )

    def _dead_letters(self, query: dict[str, list[str]]) -> dict[str, Any]:
        window = _duration(_one(query, "since"), timedelta(days=1))
        since = utc_now() - window
        runs = tasks.dead_lettered(
            self.target.client("stepfunctions"),
            self.target.table(),
            self.target.state_machine_arn,
            since,
        )
        items = []
        for run in runs:
            body = run.to_json()
            body["message"] = tasks.cause_summary(run.cause, 300)
            body["current"] = run.current_run is not None and not run.redriven
            items.append(body)
        return {
            "since": iso(since),
            "items": items,
            "queue": self.target.outputs.get("DeadLetterQueueUrl"),
        }

    def _insights_meta(self) -> dict[str, Any]:
        return {
            "logGroups": insights.log_groups(self.target),
            "saved": insights.saved_queries(self.target),
            "stateMachineLogGroup": self.target.outputs.get("StateMachineLogGroupName"),
        }

    # -- POST ------------------------------------------------------------------------

    def post(self, path: str, body: Any) -> Answer:
        try:
            if path == "/api/redrive":
                return 200, self._redrive(body)
            if path == "/api/insights/query":
                return self._query(body)
        except BadRequest as error:
            return 400, {"error": str(error)}
        except CommandError as error:
            return 409, {"error": error.message, "hint": error.hint}
        except (ClientError, BotoCoreError) as exc:
            return 502, _aws_error(exc, self.target)
        return 404, {"error": f"no such API: {path}"}

    def _redrive(self, body: Any) -> dict[str, Any]:
        ids = body.get("taskIds") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise BadRequest('the body must be {"taskIds": ["...", ...]} with at least one taskId')
        if len(ids) > MAX_REDRIVE:
            raise BadRequest(f"at most {MAX_REDRIVE} tasks per redrive")
        task_ids = [_task_id(task_id) for task_id in dict.fromkeys(ids)]
        # The same code as `ftb redrive TASK_ID...`: its checks, derived names, record moves.
        redriver = ftb_redrive.Redriver(self.target, dry_run=False)
        results = list(bounded_map(redriver.redrive, task_ids, 4))
        for result in results:
            result.next_step = ftb_redrive.next_step(result)
        self.index.invalidate()
        return {"results": [result.to_json() for result in results]}

    def _query(self, body: Any) -> Answer:
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("query"), str)
            or not body["query"].strip()
        ):
            raise BadRequest('the body must be {"query": "...", "start": ISO, "end": ISO}')
        end = _moment(body.get("end"), "end") or utc_now()
        start = _moment(body.get("start"), "start") or end - timedelta(hours=1)
        if end < start:
            raise BadRequest("the end of the time range is before its start")
        groups = body.get("logGroups") or None
        if groups is not None and (
            not isinstance(groups, list) or not all(isinstance(g, str) for g in groups)
        ):
            raise BadRequest("logGroups must be a list of log group names")
        try:
            rows = insights.run_query(self.target, body["query"], start, end, groups)
        except insights.MalformedQuery as error:
            return 400, {
                "error": f"the query is malformed: {error}",
                "malformed": True,
                **_line_column(body["query"], error.location),
            }
        columns = list(dict.fromkeys(key for row in rows for key in row))
        return 200, {"columns": columns, "rows": rows, "start": iso(start), "end": iso(end)}


def _line_column(query: str, location: dict[str, Any] | None) -> dict[str, Any]:
    """Line and column (1-based) of a compile error's start offset."""
    if not location or not isinstance(location.get("startCharOffset"), int):
        return {}
    offset = max(0, min(location["startCharOffset"], len(query)))
    before = query[:offset]
    line = before.count("\n") + 1
    column = offset - (before.rfind("\n") + 1) + 1
    return {"line": line, "column": column, "location": location}


def _aws_error(exc: Exception, target: Target) -> dict[str, Any]:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        operation = getattr(exc, "operation_name", "")
        return {
            "error": f"{target.description}: {operation} refused: "
            f"{error.get('Code')}: {error.get('Message')}",
            "hint": "check the credentials' permissions and that the stack is fully deployed",
        }
    return {
        "error": f"could not reach {target.description}: {exc}",
        "hint": "check that it still runs",
    }
