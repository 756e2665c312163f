"""Every task with its true status, kept as a snapshot that the tasks and overview pages page
through on the server.

A snapshot is one scan of the tasks table and one listing of the state machine's executions
(ListExecutions, 1,000 a page), joined by execution name and mapped to the status a client
sees by the task domain (`view_from_execution` / `view_without_execution`), never by the
table's own `status` field (written once, at intake). It is refreshed in the background when a
page asks and it is older than `max_age` (or four times its last refresh's duration, whichever
is longer): a request never waits for a refresh, except the first.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ftb.ops import tasks
from ftb.ops.commands._common import bounded_map
from ftb.ops.commands.history import analyse, fetch_history
from ftb.ops.target import Target
from task_domain import records
from task_domain.models import iso, parse_iso
from task_domain.status import view_from_execution, view_without_execution

EPOCH = datetime.min.replace(tzinfo=UTC)
MAX_PAGE_SIZE = 200


@dataclass
class TaskRow:
    task_id: str
    status: str
    record_status: str  # the table's own field, as written at intake
    submitted_at: datetime | None
    run: int
    execution_name: str
    execution_status: str | None
    start_date: datetime | None
    stop_date: datetime | None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "taskId": self.task_id,
            "status": self.status,
            "recordStatusField": self.record_status,
            "submittedAt": iso(self.submitted_at) if self.submitted_at else None,
            "run": self.run,
            "executionName": self.execution_name,
            "executionStatus": self.execution_status,
            "startDate": iso(self.start_date) if self.start_date else None,
            "stopDate": iso(self.stop_date) if self.stop_date else None,
            "error": self.error,
        }


def executions_by_name(sfn: Any, state_machine_arn: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    kwargs: dict[str, Any] = {"stateMachineArn": state_machine_arn, "maxResults": 1000}
    while True:
        page = sfn.list_executions(**kwargs)
        for execution in page.get("executions", []):
            found[str(execution["name"])] = execution
        if not page.get("nextToken"):
            return found
        kwargs["nextToken"] = page["nextToken"]


def build_rows(table: Any, sfn: Any, state_machine_arn: str) -> list[TaskRow]:
    executions = executions_by_name(sfn, state_machine_arn)
    rows = []
    for record in records.scan_tasks(table):
        names = record.run_names
        execution = executions.get(names[-1])
        if execution is None:
            view = view_without_execution(record)
        else:
            arn = str(execution.get("executionArn", ""))
            view = view_from_execution(record, arn, execution)
        rows.append(
            TaskRow(
                task_id=record.task_id,
                status=view.status.value,
                record_status=record.status,
                submitted_at=parse_iso(record.submitted_at),
                run=len(names),
                execution_name=names[-1],
                execution_status=str(execution["status"]) if execution else None,
                start_date=execution.get("startDate") if execution else None,
                stop_date=execution.get("stopDate") if execution else parse_iso(view.stop_date),
                error=view.error if execution is None else None,
            )
        )
    rows.sort(key=lambda row: (row.submitted_at or EPOCH, row.task_id), reverse=True)
    return rows


# A snapshot older than this is refreshed before it is answered when a refresh is quick.
STALE_SECONDS = 10.0
QUICK_REFRESH_SECONDS = 1.0


class TaskIndex:
    """The latest snapshot of every task, refreshed in the background while pages ask."""

    def __init__(self, target: Target, max_age: float = 2.0) -> None:
        self.target = target
        self.max_age = max_age
        self._table = target.table()
        self._sfn = target.client("stepfunctions")
        self._rows: list[TaskRow] | None = None
        self._taken_at = 0.0
        self.refresh_seconds = 0.0
        self._lock = threading.Lock()
        self._refreshing = threading.Lock()
        self._attempts: dict[str, int] = {}  # finished executions' attempts (they never change)

    def _refresh(self) -> None:
        began = time.monotonic()
        rows = build_rows(self._table, self._sfn, self.target.state_machine_arn)
        with self._lock:
            self._rows, self._taken_at = rows, time.monotonic()
            self.refresh_seconds = time.monotonic() - began

    def _refresh_in_background(self) -> None:
        if not self._refreshing.acquire(blocking=False):
            return  # one refresh at a time

        def run() -> None:
            try:
                self._refresh()
            except Exception:  # the next request tries again; the old snapshot stays
                pass
            finally:
                self._refreshing.release()

        threading.Thread(target=run, name="console-task-index", daemon=True).start()

    def rows(self) -> tuple[list[TaskRow], float]:
        """The snapshot and its age in seconds."""
        if self._rows is None:
            with self._refreshing:
                if self._rows is None:
                    self._refresh()
        elif time.monotonic() - self._taken_at > max(self.max_age, 4 * self.refresh_seconds):
            age = time.monotonic() - self._taken_at
            if age > STALE_SECONDS and self.refresh_seconds < QUICK_REFRESH_SECONDS:
                # Nobody looked for a while (the first page after a batch): an old snapshot
                # would show counts that are no longer true, and a fresh one is quick.
                with self._refreshing:
                    if time.monotonic() - self._taken_at > STALE_SECONDS:
                        self._refresh()
            else:
                # A refresh that takes long (a big table on a slow endpoint) runs at most a
                # fifth of the time: the console must not become the load on what it watches.
                self._refresh_in_background()
        with self._lock:
            assert self._rows is not None
            return self._rows, time.monotonic() - self._taken_at

    def invalidate(self) -> None:
        self._taken_at = 0.0

    def attempts(self, rows: list[TaskRow]) -> dict[str, int]:
        """Attempts of each row's current run (GetExecutionHistory; finished ones cached)."""
        arn_of = {
            row.task_id: tasks.execution_arn(self.target.state_machine_arn, row.execution_name)
            for row in rows
            if row.execution_status is not None
        }
        missing = [task for task, arn in arn_of.items() if arn not in self._attempts]

        def count(task_id: str) -> tuple[str, int]:
            return task_id, analyse(fetch_history(self._sfn, arn_of[task_id], False)).attempts

        fresh = dict(bounded_map(count, missing))
        finished = {row.task_id for row in rows if row.stop_date is not None}
        for task_id, number in fresh.items():
            if task_id in finished:
                self._attempts[arn_of[task_id]] = number
        return {task: self._attempts.get(arn, fresh.get(task, 0)) for task, arn in arn_of.items()}


def query(
    index: TaskIndex,
    *,
    status: str | None = None,
    search: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    size: int = 50,
) -> dict[str, Any]:
    """One page of the tasks that match, newest submission first, with the counts by status."""
    rows, age = index.rows()
    needle = (search or "").strip().lower()
    counts: dict[str, int] = dict.fromkeys(tasks.CLIENT_STATUSES, 0)
    matched = []
    for row in rows:
        if since is not None and (row.submitted_at is None or row.submitted_at < since):
            continue
        if until is not None and (row.submitted_at is None or row.submitted_at > until):
            continue
        if needle and needle not in row.task_id.lower():
            continue
        counts[row.status] = counts.get(row.status, 0) + 1
        if status and row.status != status:
            continue
        matched.append(row)
    size = max(1, min(size, MAX_PAGE_SIZE))
    pages = max(1, -(-len(matched) // size))
    page = max(1, min(page, pages))
    shown = matched[(page - 1) * size : page * size]
    attempts = index.attempts(shown)
    items = []
    for row in shown:
        body = row.to_json()
        body["attempts"] = attempts.get(row.task_id)
        items.append(body)
    return {
        "total": len(matched),
        "all": len(rows),
        "counts": counts,
        "page": page,
        "pages": pages,
        "size": size,
        "snapshotAgeSeconds": round(age, 3),
        "items": items,
    }
