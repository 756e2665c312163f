"""`ftb submit`: POST tasks to the API, one or many, within a rate and a concurrency limit.

One task: `--task-id ID [--payload JSON|@file]`. Many: `--file tasks.jsonl` (one
{"taskId", "payload"} per line, `-` for stdin) or `--count N [--prefix P]` generated tasks.
Answers are sorted into accepted (202), duplicates (200: the same task again; nothing runs
twice) and rejected, grouped by status code and message.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ftb.ops import task_api
from ftb.ops.api_auth import Authorize
from ftb.ops.commands._common import (
    add_common_arguments,
    positive_int,
    resolve_target,
    run_guarded,
    task_id_arg,
)
from ftb.ops.output import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CommandError, Output

if TYPE_CHECKING:  # imported when a rate is set: not for every `ftb` command
    from pyrate_limiter import Limiter

DEFAULT_RATE = 20.0  # per second: well under the stage's throttle (50 rps, burst 100)
DEFAULT_CONCURRENCY = 4
DEFAULT_PREFIX = "task"
MAX_EXAMPLES = 5  # taskIds shown per rejection group in the table
NOT_SENT = "not sent: the API had stopped answering (connection refused)"


@dataclass(frozen=True)
class Submission:
    index: int  # position in the input: reports list tasks in this order
    task_id: str  # for display; "line N" when a line has none
    body: Any  # what is POSTed (None: rejected before sending)
    local_error: str | None = None


@dataclass
class Outcome:
    index: int
    task_id: str
    kind: str  # accepted | duplicate | rejected
    status: int
    message: str = ""


@dataclass
class Summary:
    accepted: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    rejections: dict[tuple[int, str], list[tuple[int, str]]] = field(default_factory=dict)

    def add(self, outcome: Outcome) -> None:
        if outcome.kind == "accepted":
            self.accepted.append(outcome.task_id)
        elif outcome.kind == "duplicate":
            self.duplicates.append(outcome.task_id)
        else:
            key = (outcome.status, outcome.message)
            self.rejections.setdefault(key, []).append((outcome.index, outcome.task_id))

    @property
    def rejected(self) -> int:
        return sum(len(ids) for ids in self.rejections.values())

    def groups(self) -> list[tuple[int, str, list[str]]]:
        """(status, reason, taskIds in input order), the largest group first."""
        groups = [
            (status, message, [task_id for _, task_id in sorted(ids)])
            for (status, message), ids in self.rejections.items()
        ]
        return sorted(groups, key=lambda group: (-len(group[2]), group[0], group[1]))

    @property
    def total(self) -> int:
        return len(self.accepted) + len(self.duplicates) + self.rejected


def pacer(rate: float) -> Limiter:
    """At most `rate` requests per second across every worker thread, no bursts.

    pyrate-limiter's token bucket, one token deep; the rate is expressed per 1,000 s so
    that fractional and high rates keep their precision (Rate takes whole numbers).
    """
    from pyrate_limiter import Duration, Limiter, Rate, StateBucket, TokenBucket

    per_kilosecond = Rate(max(1, round(rate * 1000)), Duration.SECOND * 1000, burst=1)
    return Limiter(StateBucket([per_kilosecond], algorithm=TokenBucket()), buffer_ms=0)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "submit",
        help="submit one task, a JSON-lines file of tasks, or N generated tasks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--task-id", type=task_id_arg, help="submit this one task")
    what.add_argument(
        "--file", metavar="PATH", help='JSON lines, one {"taskId", "payload"} each ("-": stdin)'
    )
    what.add_argument("--count", type=positive_int, metavar="N", help="submit N generated tasks")
    parser.add_argument(
        "--payload",
        metavar="JSON|@FILE",
        help='the payload (a JSON object, or @file holding one); default {"data": ...}',
    )
    parser.add_argument(
        "--prefix",
        default=DEFAULT_PREFIX,
        help=f"generated taskIds are PREFIX-0001... (default {DEFAULT_PREFIX!r})",
    )
    parser.add_argument(
        "--rate", type=float, default=DEFAULT_RATE, help=f"requests per second ({DEFAULT_RATE:g})"
    )
    parser.add_argument(
        "--concurrency",
        type=positive_int,
        default=DEFAULT_CONCURRENCY,
        help=f"requests in flight at most ({DEFAULT_CONCURRENCY})",
    )
    add_common_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return run_guarded(args, _run)


def parse_payload(text: str) -> Any:
    source = "--payload"
    if text.startswith("@"):
        path = Path(text[1:])
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(
                f"cannot read the payload file {path}: {exc.strerror}",
                "pass --payload @PATH of a readable file holding a JSON object",
            ) from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CommandError(
            f"{source} is not JSON: {exc}",
            'pass a JSON object, e.g. --payload \'{"data": "test data"}\', or @file.json',
        ) from None


def read_lines(path: str) -> list[Submission]:
    try:
        if path == "-":
            lines = sys.stdin.read().splitlines()
        else:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CommandError(
            f"cannot read {path}: {exc.strerror}",
            'pass --file PATH of a JSON-lines file ({"taskId": ..., "payload": {...}} per line)',
        ) from None
    submissions = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            body = json.loads(line)
        except ValueError as exc:
            submissions.append(
                Submission(number, f"line {number}", None, f"line is not JSON ({exc})")
            )
            continue
        task_id = body.get("taskId") if isinstance(body, dict) else None
        label = task_id if isinstance(task_id, str) and task_id else f"line {number}"
        submissions.append(Submission(number, label, body))
    return submissions


def generated(count: int, prefix: str, payload: Any) -> list[Submission]:
    width = max(4, len(str(count)))
    tasks = []
    for number in range(1, count + 1):
        task_id = f"{prefix}-{number:0{width}d}"
        body_payload = payload if payload is not None else {"data": f"generated task {number}"}
        tasks.append(Submission(number, task_id, {"taskId": task_id, "payload": body_payload}))
    return tasks


def plan(args: argparse.Namespace) -> list[Submission]:
    payload = parse_payload(args.payload) if args.payload is not None else None
    if args.file is not None:
        if args.payload is not None:
            raise CommandError(
                "--payload does not apply to --file (each line holds its own payload)",
                "drop --payload, or put the payload into the file's lines",
            )
        return read_lines(args.file)
    if args.count is not None:
        if len(f"{args.prefix}-{args.count}") > 80:
            raise CommandError(
                f"--prefix {args.prefix!r} makes taskIds longer than 80 characters",
                "use a shorter --prefix",
            )
        return generated(args.count, args.prefix, payload)
    body_payload = payload if payload is not None else {"data": "test data"}
    return [Submission(1, args.task_id, {"taskId": args.task_id, "payload": body_payload})]


def classify(submission: Submission, answer: task_api.HttpAnswer) -> Outcome:
    if answer.status == 202:
        return Outcome(submission.index, submission.task_id, "accepted", 202)
    if answer.status == 200:
        # A 200 after our own failed attempt is most likely that attempt's task: count it
        # as accepted rather than as someone else's duplicate.
        kind = "accepted" if answer.attempts > 1 else "duplicate"
        return Outcome(submission.index, submission.task_id, kind, 200)
    return Outcome(submission.index, submission.task_id, "rejected", answer.status, answer.message)


def submit_one(
    endpoint: str,
    bucket: Limiter | None,
    submission: Submission,
    gone: threading.Event | None = None,
    auth: Authorize | None = None,
) -> Outcome:
    """POST one task; once a connection was refused after every retry (`gone`), send no more."""
    if submission.local_error is not None:
        return Outcome(submission.index, submission.task_id, "rejected", 0, submission.local_error)
    if gone is not None and gone.is_set():
        return Outcome(submission.index, submission.task_id, "rejected", 0, NOT_SENT)
    if bucket is not None:
        bucket.try_acquire("submit")
    answer = task_api.request("POST", endpoint, submission.body, auth=auth)
    if answer.refused and gone is not None:
        gone.set()
    return classify(submission, answer)


def _submit_all(
    submissions: list[Submission],
    endpoint: str,
    args: argparse.Namespace,
    output: Output,
    auth: Authorize | None = None,
) -> tuple[Summary, bool]:
    summary = Summary()
    bucket = pacer(args.rate) if args.rate and args.rate > 0 else None
    interrupted = False
    progress = Progress(
        TextColumn("[bold]submitting"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=output.err,
        transient=False,
        disable=output.json_mode or len(submissions) < 2,
    )
    queue: Iterator[Submission] = iter(submissions)
    gone = threading.Event()
    with progress, ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        bar = progress.add_task("submit", total=len(submissions), status="")
        in_flight: set[Future[Outcome]] = set()
        try:
            for submission in queue:
                # Keep the pool fed but never hold every request in memory at once.
                while len(in_flight) >= args.concurrency * 2:
                    done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                    for future in done:
                        _record(future.result(), summary, progress, bar)
                in_flight.add(pool.submit(submit_one, endpoint, bucket, submission, gone, auth))
            for future in in_flight:
                _record(future.result(), summary, progress, bar)
        except KeyboardInterrupt:
            interrupted = True
            for future in in_flight:
                future.cancel()
            output.warn("interrupted: the summary covers the answers received so far")
    return summary, interrupted


def _record(outcome: Outcome, summary: Summary, progress: Progress, bar: Any) -> None:
    summary.add(outcome)
    status = (
        f"[green]{len(summary.accepted)} accepted[/] "
        f"[yellow]{len(summary.duplicates)} duplicate[/] [red]{summary.rejected} rejected[/]"
    )
    progress.update(bar, advance=1, status=status)


def _run(args: argparse.Namespace, output: Output) -> int:
    if args.rate is not None and args.rate < 0:
        raise CommandError("--rate must be 0 (no limit) or more", "e.g. --rate 20", EXIT_USAGE)
    submissions = plan(args)
    if not submissions:
        raise CommandError(f"{args.file} holds no tasks", "add one JSON object per line")
    target = resolve_target(args, output)
    endpoint = target.tasks_endpoint
    started = time.monotonic()
    summary, interrupted = _submit_all(submissions, endpoint, args, output, target.api_auth)
    seconds = time.monotonic() - started
    report(summary, seconds, output)
    not_sent = len(summary.rejections.get((0, NOT_SENT), []))
    if not_sent:
        where = " is the local cloud still running (`make run`)?" if target.kind == "local" else ""
        output.warn(
            f"the API stopped answering (connection refused), so {not_sent} task(s) were not "
            f"sent;{where} submit them again once it answers: submissions are idempotent"
        )
    else:
        no_answer = all(status == 0 for status, _ in summary.rejections)
        nothing_in = not summary.accepted and not summary.duplicates
        if summary.rejections and no_answer and nothing_in and target.kind == "local":
            output.warn("no answer from the API: is the local cloud still running (`make run`)?")
    if interrupted:
        return 130
    return EXIT_FAILED if summary.rejected else EXIT_OK


def report(summary: Summary, seconds: float, output: Output) -> None:
    groups = summary.groups()
    if output.json_mode:
        output.json(
            {
                "submitted": summary.total,
                "accepted": len(summary.accepted),
                "duplicates": len(summary.duplicates),
                "rejected": summary.rejected,
                "rejections": [
                    {"status": status, "message": message, "count": len(ids), "taskIds": ids}
                    for status, message, ids in groups
                ],
                "seconds": round(seconds, 3),
            }
        )
        return
    rate = summary.total / seconds if seconds > 0 else 0.0
    output.line(
        f"[bold]{summary.total}[/] submitted in {seconds:.1f} s ({rate:.1f}/s): "
        f"[green]{len(summary.accepted)} accepted[/], "
        f"[yellow]{len(summary.duplicates)} duplicates[/], "
        f"[red]{summary.rejected} rejected[/]"
    )
    if summary.total == 1 and summary.total == len(summary.accepted):
        output.line(
            f"task {escape(summary.accepted[0])} is QUEUED: `ftb status {summary.accepted[0]}`"
        )
    if groups:
        rows = []
        for status, message, ids in groups:
            examples = ", ".join(ids[:MAX_EXAMPLES]) + (" …" if len(ids) > MAX_EXAMPLES else "")
            rows.append(
                # 0: no HTTP answer (or not sent, or a line that is not JSON), as documented
                [str(status), str(len(ids)), escape(message), escape(examples)]
            )
        output.table(
            ["Status", "Count", "Reason", "Tasks"],
            rows,
            title="Rejected",
            overflow_columns=["Reason", "Tasks"],
        )
