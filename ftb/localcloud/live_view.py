"""The compact live view of a running local cloud (rich `Live`): what the stack is doing.

Generic: it knows no application. Its figures come from signals any stack has:
- the API's answers (counted by status: 202 accepted, other 2xx, 4xx, 5xx);
- every state machine's executions by status (Step Functions ListExecutions);
- dead letters: records the event source mappings delivered from a queue that is another
  queue's dead-letter target (its RedrivePolicy), plus the messages still waiting there;
- each function's invocations (the REPORT line that ends each one) and errors (the
  `[ERROR] Type: message` record Lambda's Python runtime writes for an unhandled exception);
- the local cloud's own checkpoints: the age of the last good one, always, and the reason
  when the last attempt failed (read even when the endpoint is too busy to answer the rest).

An execution that ends FAILED, TIMED_OUT or ABORTED is printed above the view as one line
(error and cause), never as a traceback, the first MAX_FAILURE_LINES of them (the view then
says how many it did not list); so are the errors that need attention (crashes, timeouts,
5xx answers), from `Terminal`.

At a terminal the view redraws in place (rich Live). Piped or redirected (a log file, CI),
it never moves the cursor: one plain progress line every PROGRESS_SECONDS while the figures
change, and the whole view once at the end.

After a restart the executions are the restored state's (ListExecutions sees them all) and
the view says how many were restored; API answers and function calls are this process's own
and are labelled "since start" (docs/decisions.md).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

POLL_SECONDS = 2.0
# Piped: a progress line this often while the figures change, and at least once a minute.
PROGRESS_SECONDS = 10.0
IDLE_PROGRESS_SECONDS = 60.0
RATE_WINDOW_SECONDS = 10.0
FAILED_STATUSES = ("FAILED", "TIMED_OUT", "ABORTED")
# Past this many, further failed executions are counted in the view, not listed one by one.
MAX_FAILURE_LINES = 20
_CAUSE_CHARS = 120


@dataclass
class FunctionCounts:
    invocations: int = 0
    errors: int = 0


@dataclass
class Snapshot:
    """Everything the view shows, as plain numbers (what `render` draws)."""

    uptime_seconds: float = 0.0
    api_by_status: dict[int, int] = field(default_factory=dict)
    executions: dict[str, int] = field(default_factory=dict)  # status -> count
    dead_lettered: int = 0  # delivered from dead-letter queues to their consumers
    dead_letter_waiting: int = 0  # still on the dead-letter queues
    functions: dict[str, FunctionCounts] = field(default_factory=dict)
    accepted_per_second: float = 0.0
    finished_per_second: float = 0.0
    checkpoint: str = ""  # the last good checkpoint's age (and a failure), when there is one
    checkpoint_failing: bool = False
    alarms: dict[str, str] = field(default_factory=dict)  # CloudWatch alarm name -> state
    restored: int = 0  # executions already there when the view started (a restored state)
    unlisted_failures: int = 0  # failed executions past MAX_FAILURE_LINES: counted, not listed

    @property
    def accepted(self) -> int:
        return self.api_by_status.get(202, 0)

    @property
    def api_total(self) -> int:
        return sum(self.api_by_status.values())

    def api_class(self, low: int, high: int) -> int:
        return sum(n for status, n in self.api_by_status.items() if low <= status < high)

    @property
    def finished(self) -> int:
        return sum(n for status, n in self.executions.items() if status != "RUNNING")

    @property
    def failed(self) -> int:
        return sum(self.executions.get(status, 0) for status in FAILED_STATUSES)


class Counters:
    """What the terminal's signals add up to; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.api_by_status: dict[int, int] = {}
        self.functions: dict[str, FunctionCounts] = {}

    def api_answered(self, status: int) -> None:
        with self._lock:
            self.api_by_status[status] = self.api_by_status.get(status, 0) + 1

    def function_failed(self, function: str) -> None:
        """An unhandled exception (its REPORT line, which follows, counts the invocation)."""
        with self._lock:
            self.functions.setdefault(function, FunctionCounts()).errors += 1

    def function_finished(self, function: str, *, error: bool) -> None:
        with self._lock:
            counts = self.functions.setdefault(function, FunctionCounts())
            counts.invocations += 1
            counts.errors += int(error)

    def copy_into(self, snapshot: Snapshot) -> None:
        with self._lock:
            snapshot.api_by_status = dict(self.api_by_status)
            snapshot.functions = {
                name: FunctionCounts(c.invocations, c.errors) for name, c in self.functions.items()
            }


def _one_line_cause(cause: Any) -> str:
    """A Lambda error's cause is JSON ({errorMessage, errorType, stackTrace}): its message."""
    text = str(cause or "")
    with contextlib.suppress(ValueError, TypeError):
        document = json.loads(text)
        if isinstance(document, dict) and document.get("errorMessage"):
            text = str(document["errorMessage"])
    text = " ".join(text.split())
    return text if len(text) <= _CAUSE_CHARS else text[: _CAUSE_CHARS - 1] + "…"


def failure_line(name: str, status: str, error: Any, cause: Any) -> Text:
    line = Text()
    line.append(f"{status:<9}", style="red")
    line.append(f" {name}  ")
    line.append(str(error or status), style="bold")
    summary = _one_line_cause(cause)
    if summary:
        line.append(f": {summary}")
    return line


def render(stack_name: str, snapshot: Snapshot) -> RenderableType:
    """Six short lines: the API, the executions, dead letters, the functions' errors, the
    saved state."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    s = snapshot
    grid.add_row(
        "API since start",
        f"[green]{s.accepted} accepted (202)[/] · {s.api_class(200, 300) - s.accepted} other "
        f"2xx · [yellow]{s.api_class(400, 500)} 4xx[/] · [red]{s.api_class(500, 600)} 5xx[/]"
        f" · {s.accepted_per_second:.1f} accepted/s",
    )
    grid.add_row(
        "Executions",
        f"[cyan]{s.executions.get('RUNNING', 0)} running[/] · "
        f"[green]{s.executions.get('SUCCEEDED', 0)} succeeded[/] · "
        f"[red]{s.failed} failed[/]{_unlisted(s)} · {s.finished_per_second:.1f} finished/s"
        + (f" · {s.restored} restored" if s.restored else ""),
    )
    grid.add_row(
        "Dead letters",
        f"[red]{s.dead_lettered}[/] delivered since start · {s.dead_letter_waiting} waiting",
    )
    counted = sorted(s.functions.items())
    functions = " · ".join(f"{name} {c.errors}/{c.invocations}" for name, c in counted)
    grid.add_row("Errors/calls since start", functions or "-")
    if s.checkpoint:
        grid.add_row("Saved state", Text(s.checkpoint, style="red" if s.checkpoint_failing else ""))
    if s.alarms:
        grid.add_row("Alarms", alarm_summary(s.alarms))
    minutes, seconds = divmod(int(s.uptime_seconds), 60)
    title = Text.assemble(
        (stack_name, "bold"), f" · up {minutes}m{seconds:02d}s · Ctrl-C stops", style="dim"
    )
    return Group(title, grid)


def alarm_summary(alarms: dict[str, str]) -> str:
    """ "12 OK · 1 ALARM (DeadLetteredTasks) · 0 INSUFFICIENT_DATA": names of those in ALARM."""
    firing = sorted(name for name, state in alarms.items() if state == "ALARM")
    count = {state: sum(1 for v in alarms.values() if v == state) for state in ("OK", "ALARM")}
    waiting = len(alarms) - count["OK"] - count["ALARM"]
    names = f" ({', '.join(firing)})" if firing else ""
    return (
        f"[green]{count['OK']} OK[/] · [red]{count['ALARM']} ALARM{names}[/] · "
        f"{waiting} INSUFFICIENT_DATA"
    )


def _unlisted(snapshot: Snapshot) -> str:
    n = snapshot.unlisted_failures
    return f" ({n} not listed above)" if n else ""


def progress_line(stack_name: str, snapshot: Snapshot) -> str:
    """The view as one plain line, for a log: no colour, no cursor movement."""
    s = snapshot
    minutes, seconds = divmod(int(s.uptime_seconds), 60)
    parts = [
        f"{time.strftime('%H:%M:%S')} {stack_name} up {minutes}m{seconds:02d}s",
        f"since start: {s.accepted} accepted, {s.api_class(400, 500)} 4xx, "
        f"{s.api_class(500, 600)} 5xx",
        f"executions: {s.executions.get('RUNNING', 0)} running, "
        f"{s.executions.get('SUCCEEDED', 0)} succeeded, {s.failed} failed"
        + (f" ({s.unlisted_failures} not listed)" if s.unlisted_failures else "")
        + (f", {s.restored} restored" if s.restored else ""),
        f"dead letters: {s.dead_lettered} delivered since start, {s.dead_letter_waiting} waiting",
    ]
    if s.checkpoint:
        parts.append(f"saved state: {s.checkpoint}")
    if s.alarms:
        firing = sorted(name for name, state in s.alarms.items() if state == "ALARM")
        parts.append(f"alarms in ALARM: {', '.join(firing) or 'none'}")
    return " · ".join(parts)


def _figures(snapshot: Snapshot) -> tuple[Any, ...]:
    """What a progress line is worth printing again for (not the clock)."""
    s = snapshot
    return (
        sorted(s.api_by_status.items()),
        sorted(s.executions.items()),
        s.dead_lettered,
        s.dead_letter_waiting,
        s.checkpoint_failing,
        sorted(s.alarms.items()),
    )


@dataclass
class Sources:
    """Where the view reads its figures (boto3 clients of the local endpoint)."""

    stepfunctions: Any
    sqs: Any
    state_machine_arns: list[str]
    dead_letter_queue_urls: list[str]
    delivered_from_dead_letter_queues: Callable[[], int]
    # The checkpoints' state as (line, failing): persistence's CheckpointHealth.
    checkpoint: Callable[[], tuple[str, bool]] | None = None
    alarms: Any = None  # a CloudWatch client: the alarms' states (DescribeAlarms)
    # Executions the start restored from the saved state (its RestoreSummary), 0 when fresh.
    restored_executions: int = 0


def dead_letter_queue_urls(sqs: Any, queue_urls: list[str]) -> list[str]:
    """The queues named as deadLetterTargetArn in another queue's RedrivePolicy."""
    targets: set[str] = set()
    arns: dict[str, str] = {}
    for url in queue_urls:
        attributes = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["QueueArn", "RedrivePolicy"]
        )["Attributes"]
        arns[attributes["QueueArn"]] = url
        with contextlib.suppress(ValueError, KeyError, TypeError):
            targets.add(json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"])
    return [arns[arn] for arn in sorted(targets) if arn in arns]


class LiveView:
    """A rich Live region, refreshed from `Sources` every POLL_SECONDS by one thread."""

    def __init__(
        self, stack_name: str, sources: Sources, counters: Counters, console: Console
    ) -> None:
        self.stack_name = stack_name
        self.sources = sources
        self.counters = counters
        self.console = console
        self.snapshot = Snapshot()
        self._started = time.monotonic()
        self._seen_failures: set[str] = set()
        self._failure_lines = 0
        self._baseline = True  # failures that predate the view (a restored state) are not news
        self._unlisted = 0
        self._samples: deque[tuple[float, int, int]] = deque()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Piped, redirected or a dumb terminal: no Live (it would print nothing until the end).
        self.plain = not console.is_terminal or console.is_dumb_terminal
        self._live: Live | None = None
        if not self.plain:
            self._live = Live(
                self._render(), console=console, refresh_per_second=2, auto_refresh=True
            )
        self._last_progress: tuple[float, tuple[Any, ...]] | None = None

    def _render(self) -> RenderableType:
        return render(self.stack_name, self.snapshot)

    def start(self) -> None:
        if self._live is not None:
            self._live.start()
        self._thread = threading.Thread(target=self._run, name="live-view", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """One last poll, so the final figures (printed once when piped) are current."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=POLL_SECONDS * 3)
        with contextlib.suppress(Exception):
            self.poll()
        if self._live is not None:
            self._live.update(self._render())
            self._live.stop()
            return
        self.console.print(self._render(), highlight=False)

    def progress(self, now: float | None = None) -> None:
        """Piped: one plain line when the figures changed PROGRESS_SECONDS after the last
        one (or IDLE_PROGRESS_SECONDS passed anyway)."""
        now = time.monotonic() if now is None else now
        figures = _figures(self.snapshot)
        if self._last_progress is not None:
            last_time, last_figures = self._last_progress
            due = PROGRESS_SECONDS if figures != last_figures else IDLE_PROGRESS_SECONDS
            if now - last_time < due:
                return
        self._last_progress = (now, figures)
        self.console.print(
            progress_line(self.stack_name, self.snapshot),
            highlight=False,
            markup=False,
            soft_wrap=True,
        )

    def print(self, renderable: RenderableType) -> None:
        """A line above the view (it stays on screen; the view redraws below it)."""
        self.console.print(renderable, highlight=False, soft_wrap=True)

    def _run(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            try:
                self.poll()
            except Exception:  # the endpoint is stopping, or busy: try again next time
                # The checkpoints' line reads no endpoint: it stays current regardless.
                with contextlib.suppress(Exception):
                    self._read_checkpoint(self.snapshot)
            if self._live is not None:
                self._live.update(self._render())
            else:
                self.progress()

    def _read_checkpoint(self, snapshot: Snapshot) -> None:
        if self.sources.checkpoint is not None:
            snapshot.checkpoint, snapshot.checkpoint_failing = self.sources.checkpoint()

    def poll(self) -> None:
        snapshot = Snapshot(uptime_seconds=time.monotonic() - self._started)
        self.counters.copy_into(snapshot)
        self._read_checkpoint(snapshot)
        for arn in self.sources.state_machine_arns:
            self._count_executions(arn, snapshot)
        for url in self.sources.dead_letter_queue_urls:
            attributes = self.sources.sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )["Attributes"]
            snapshot.dead_letter_waiting += sum(int(value) for value in attributes.values())
        snapshot.dead_lettered = self.sources.delivered_from_dead_letter_queues()
        if self.sources.alarms is not None:
            prefix = f"{self.stack_name}-"
            for page in self.sources.alarms.get_paginator("describe_alarms").paginate():
                for alarm in page.get("MetricAlarms", []):
                    name = str(alarm["AlarmName"])
                    snapshot.alarms[name.removeprefix(prefix)] = str(alarm["StateValue"])
        self._rates(snapshot)
        self._baseline = False
        snapshot.restored = self.sources.restored_executions
        snapshot.unlisted_failures = self._unlisted
        self.snapshot = snapshot

    def _count_executions(self, arn: str, snapshot: Snapshot) -> None:
        sfn = self.sources.stepfunctions
        for page in sfn.get_paginator("list_executions").paginate(
            stateMachineArn=arn, PaginationConfig={"PageSize": 1000}
        ):
            for execution in page.get("executions", []):
                status = str(execution["status"])
                snapshot.executions[status] = snapshot.executions.get(status, 0) + 1
                if status in FAILED_STATUSES:
                    self._report_failure(execution["executionArn"], execution["name"], status)

    def _report_failure(self, execution_arn: str, name: str, status: str) -> None:
        if execution_arn in self._seen_failures:
            return
        self._seen_failures.add(execution_arn)
        if self._baseline:
            return
        self._failure_lines += 1
        if self._failure_lines > MAX_FAILURE_LINES:
            self._unlisted += 1
            if self._failure_lines == MAX_FAILURE_LINES + 1:
                self.print(
                    Text(
                        f"(more than {MAX_FAILURE_LINES} failed executions: the rest are "
                        "counted in the view as not listed)",
                        style="dim",
                    )
                )
            return
        described = self.sources.stepfunctions.describe_execution(executionArn=execution_arn)
        self.print(failure_line(name, status, described.get("error"), described.get("cause")))

    def _rates(self, snapshot: Snapshot) -> None:
        now = time.monotonic()
        self._samples.append((now, snapshot.accepted, snapshot.finished))
        while self._samples and now - self._samples[0][0] > RATE_WINDOW_SECONDS:
            self._samples.popleft()
        first = self._samples[0]
        elapsed = now - first[0]
        if elapsed > 0:
            snapshot.accepted_per_second = (snapshot.accepted - first[1]) / elapsed
            snapshot.finished_per_second = (snapshot.finished - first[2]) / elapsed
