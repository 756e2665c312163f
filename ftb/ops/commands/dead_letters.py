"""`ftb dead-letters [--since DURATION]`: the tasks that ended up dead-lettered.

Read from the sources that outlive the queue (the monitor consumes the DLQ as messages
arrive, so the queue itself is almost always empty):

- the state machine's FAILED / TIMED_OUT / ABORTED executions (ListExecutions, kept 90
  days): the workflow's Catch dead-letters every failure it sees, so these are the workflow
  dead letters, with the error and cause Step Functions recorded — even when the monitor
  is down or behind;
- the task records that monitor-dlq marked with an intake dead letter (`deadLetter.source
  = intake`): tasks SQS moved to the DLQ because no execution could be started.

A task that was redriven since says so (and which run is current).
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any

from rich.markup import escape

from ftb.ops import tasks
from ftb.ops.commands._common import (
    add_common_arguments,
    iso,
    parse_duration,
    resolve_target,
    run_guarded,
    short_time,
)
from ftb.ops.output import EXIT_OK, Output
from task_domain.models import utc_now

DEFAULT_SINCE = timedelta(days=1)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "dead-letters",
        help="the dead-lettered tasks with their error, cause and time",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--since",
        type=parse_duration,
        metavar="DURATION",
        help="how far back, e.g. 2h, 7d (default 1d; executions are kept 90 days)",
    )
    add_common_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return run_guarded(args, _run)


def _run(args: argparse.Namespace, output: Output) -> int:
    target = resolve_target(args, output)
    since = utc_now() - (args.since or DEFAULT_SINCE)
    runs = tasks.dead_lettered(
        target.client("stepfunctions"), target.table(), target.state_machine_arn, since
    )
    if output.json_mode:
        output.json([run.to_json() for run in runs])
        return EXIT_OK
    rows = []
    for run in runs:
        if run.current_run is None:
            now = "no record"
        elif run.redriven:
            now = f"redriven: {run.current_run}"
        else:
            now = "[red]failed[/]"
        rows.append(
            [
                escape(run.task_id),
                escape(run.source),
                escape(run.error or ""),
                escape(tasks.cause_summary(run.cause, 120)),
                short_time(run.failed_at),
                now,
            ]
        )
    output.table(
        ["Task", "Source", "Error", "Cause", "Failed at", "Now"],
        rows,
        title=f"{len(runs)} dead-lettered since {short_time(since)}",
        overflow_columns=["Cause"],
    )
    pending = [run.task_id for run in runs if not run.redriven and run.current_run is not None]
    if pending:
        output.note(
            f"after a fix, re-run them with `ftb redrive --all-failed --since "
            f"{_since_text(args.since)}` (or `ftb redrive {pending[0]}`)"
        )
    output.note(f"window: since {iso(since)}")
    return EXIT_OK


def _since_text(since: timedelta | None) -> str:
    seconds = int((since or DEFAULT_SINCE).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
