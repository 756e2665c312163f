"""`ftb redrive TASK_ID... | --all-failed [--since DURATION]`: re-run failed tasks after a fix.

Step Functions keeps an execution name reserved for 90 days, so a redrive starts a new
execution under a derived name: `{taskId}-r{n}` for the n-th redrive (when it is 80
characters or less, else a cut taskId, an 8-character hash and `-r{n}`). It is
deterministic, so a redrive that stopped half-way is resumed by running it again.

Per task, in this order:
1. refuse unless the current run FAILED (or TIMED_OUT / was ABORTED): a task that succeeded,
   runs, or is still queued is never run twice;
2. reserve the derived name as a placeholder record in the tasks table (conditional put), so
   that a task later submitted with that very taskId is refused (409) instead of silently
   colliding with this execution; a name already taken gets the hashed form;
3. move the record to the new run with a conditional update (`executionName` unchanged
   since step 1, so two concurrent redrives cannot both win): `executionName` = the new
   name, the old one appended to `runs`, `deadLetter` removed, `expiresAt` pushed to 91
   days from now (the record lives as long as its newest execution name is reserved);
4. StartExecution with the failed execution's own input (the original {taskId, payload};
   the payload is not stored in the record).

GET /tasks and `ftb status` then show the latest run; `ftb history TASK_ID --run 1` the
first. A task dead-lettered at intake never had an execution, so its payload is nowhere to
be read back: pass it with `--payload` (checked against the record's payload digest).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from botocore.exceptions import ClientError
from rich.markup import escape

from ftb.ops import tasks
from ftb.ops.commands._common import (
    add_common_arguments,
    bounded_map,
    parse_duration,
    resolve_target,
    run_guarded,
    task_id_arg,
)
from ftb.ops.commands.submit import parse_payload
from ftb.ops.output import EXIT_FAILED, EXIT_OK, CommandError, Output, styled_status
from ftb.ops.target import Target
from task_domain import records
from task_domain.aws_errors import is_code
from task_domain.errors import PERMANENT_ERROR_NAME
from task_domain.models import WorkflowInput, payload_digest, utc_now
from task_domain.naming import derived_name
from task_domain.records import TaskRecord
from task_domain.status import ACTIVE_EXECUTION_STATUSES, FAILED_EXECUTION_STATUSES

DEFAULT_SINCE = timedelta(days=1)
WAIT_TIMEOUT_SECONDS = 300
_CONCURRENCY = 4


@dataclass
class Result:
    task_id: str
    outcome: str  # redriven | resumed | refused | failed | planned
    reason: str = ""
    run: int | None = None
    execution_name: str | None = None
    execution_arn: str | None = None
    final_status: str | None = None
    next_step: str = ""  # for a refused or failed task: what to do (printed as `next:`)

    @property
    def ok(self) -> bool:
        return self.outcome in {"redriven", "resumed", "planned"} and self.final_status in {
            None,
            "SUCCEEDED",
        }

    def to_json(self) -> dict[str, Any]:
        body = {
            "taskId": self.task_id,
            "outcome": self.outcome,
            "reason": self.reason or None,
            "run": self.run,
            "executionName": self.execution_name,
            "executionArn": self.execution_arn,
            "finalStatus": self.final_status,
            "next": self.next_step or None,
        }
        return {key: value for key, value in body.items() if value is not None}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "redrive",
        help="re-run failed tasks under a new, derived execution name",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("task_ids", nargs="*", type=task_id_arg, metavar="TASK_ID")
    parser.add_argument(
        "--all-failed", action="store_true", help="every task whose current run failed"
    )
    parser.add_argument(
        "--since",
        type=parse_duration,
        metavar="DURATION",
        help="with --all-failed: failed within this long (default 1d)",
    )
    parser.add_argument(
        "--payload",
        metavar="JSON|@FILE",
        help="the payload of a task dead-lettered at intake (it has no execution to read it from)",
    )
    parser.add_argument(
        "--include-permanent",
        action="store_true",
        help=f"with --all-failed: also tasks that failed permanently ({PERMANENT_ERROR_NAME}), "
        "which fail again unless their cause was fixed",
    )
    parser.add_argument("--dry-run", action="store_true", help="say what would be redriven")
    parser.add_argument(
        "--wait", action="store_true", help="wait for the new runs to finish and show how"
    )
    add_common_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return run_guarded(args, _run)


class Redriver:
    def __init__(
        self,
        target: Target,
        *,
        dry_run: bool,
        payload: Any = None,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.table = target.table()
        self.sfn = target.client("stepfunctions")
        self.state_machine_arn = target.state_machine_arn
        self.dry_run = dry_run
        self.payload = payload
        self.warn = warn

    # -- the steps ---------------------------------------------------------------------------

    def redrive(self, task_id: str) -> Result:
        record = records.get_task(self.table, task_id)
        if record is None:
            return Result(task_id, "refused", "unknown task (no record in the tasks table)")
        names = record.run_names
        current = names[-1]
        execution = tasks.describe_execution(self.sfn, self._arn(current))
        if execution is None:
            return self._without_execution(task_id, record, names)
        status = str(execution.get("status"))
        if status in ACTIVE_EXECUTION_STATUSES:
            return Result(task_id, "refused", f"still running (run {len(names)}: {current})")
        if status == "SUCCEEDED":
            return Result(task_id, "refused", f"succeeded (run {len(names)}): nothing to redrive")
        if status not in FAILED_EXECUTION_STATUSES:
            return Result(task_id, "refused", f"its execution is {status}")
        if execution.get("error") == PERMANENT_ERROR_NAME and self.warn is not None:
            # Named on purpose, so it runs; said before it runs, so nobody is surprised.
            cause = tasks.cause_summary(execution.get("cause"), 100)
            self.warn(
                f"{task_id} failed permanently ({PERMANENT_ERROR_NAME}: {cause}): its new run "
                "fails the same way unless that cause was fixed"
            )
        raw_input = execution.get("input")
        if tasks.task_id_of_input(raw_input) != task_id:
            return Result(
                task_id, "failed", f"execution {current}'s input is not this task's; not redriven"
            )
        new_name = self._free_name(task_id, len(names))
        if new_name is None:
            return Result(task_id, "failed", "every derived execution name is taken")
        if self.dry_run:
            return Result(task_id, "planned", f"{current} {status}", len(names) + 1, new_name)
        self._reserve(task_id, new_name)
        if not records.move_to_run(self.table, task_id, current, new_name):
            return Result(
                task_id,
                "refused",
                "another redrive changed the task at the same time; see `ftb status`",
            )
        return self._start(task_id, new_name, str(raw_input), len(names) + 1, "redriven")

    def _without_execution(self, task_id: str, record: TaskRecord, names: list[str]) -> Result:
        current = names[-1]
        if len(names) > 1:
            # An earlier redrive moved the record but never started the run: finish it.
            previous = tasks.describe_execution(self.sfn, self._arn(names[-2]))
            if previous is None or tasks.task_id_of_input(previous.get("input")) != task_id:
                return Result(task_id, "failed", f"run {names[-2]} has no readable input")
            if self.dry_run:
                return Result(task_id, "planned", "resume the unstarted run", len(names), current)
            return self._start(task_id, current, str(previous["input"]), len(names), "resumed")
        if record.dead_letter is None:
            return Result(task_id, "refused", "still queued: it has not started yet")
        if self.payload is None:
            return Result(
                task_id,
                "refused",
                "dead-lettered at intake (never started) and its payload is not stored: "
                "pass it with --payload",
            )
        if payload_digest(self.payload) != record.payload_digest:
            return Result(
                task_id, "refused", "--payload is not the payload this task was submitted with"
            )
        body = WorkflowInput(task_id=task_id, payload=self.payload).to_json()
        if self.dry_run:
            return Result(task_id, "planned", "start the never-started run", 1, current)
        records.clear_dead_letter(self.table, task_id, current)
        return self._start(task_id, current, body, 1, "redriven")

    def _arn(self, name: str) -> str:
        return tasks.execution_arn(self.state_machine_arn, name)

    def _free_name(self, task_id: str, redrive: int) -> str | None:
        """The derived name, or its hashed form when something else already holds it."""
        for hashed in (False, True):
            name = derived_name(task_id, redrive, hashed=hashed)
            holder = records.get(self.table, name)
            taken_by_task = holder is not None and holder.reserved_for != task_id
            if not taken_by_task and tasks.describe_execution(self.sfn, self._arn(name)) is None:
                return name
        return None

    def _reserve(self, task_id: str, name: str) -> None:
        try:
            records.reserve_name(self.table, name, task_id)
        except records.NameTakenError:
            raise CommandError(
                f"{name} was just taken by a new task while redriving {task_id}",
                f"run `ftb redrive {task_id}` again: it picks another name",
                EXIT_FAILED,
            ) from None

    def _start(self, task_id: str, name: str, raw_input: str, run: int, outcome: str) -> Result:
        arn = self._arn(name)
        try:
            arn = self.sfn.start_execution(
                stateMachineArn=self.state_machine_arn, name=name, input=raw_input
            )["executionArn"]
        except ClientError as exc:
            if not is_code(exc, "ExecutionAlreadyExists"):
                return Result(
                    task_id,
                    "failed",
                    f"StartExecution failed ({exc.response.get('Error', {}).get('Code')}); "
                    f"run `ftb redrive {task_id}` again to resume",
                    run,
                    name,
                )
            existing = tasks.describe_execution(self.sfn, arn) or {}
            if tasks.task_id_of_input(existing.get("input")) != task_id:
                return Result(task_id, "failed", f"execution {name} belongs to another task")
        return Result(task_id, outcome, "", run, name, arn)

    # -- waiting -----------------------------------------------------------------------------

    def wait(self, results: list[Result], output: Output) -> None:
        pending = {
            r.execution_arn: r for r in results if r.execution_arn and r.outcome != "planned"
        }
        deadline = time.monotonic() + WAIT_TIMEOUT_SECONDS
        with output.err.status(f"waiting for {len(pending)} run(s) to finish…"):
            while pending and time.monotonic() < deadline:
                for arn, result in list(pending.items()):
                    execution = tasks.describe_execution(self.sfn, arn) or {}
                    status = str(execution.get("status", "RUNNING"))
                    if status not in ACTIVE_EXECUTION_STATUSES:
                        result.final_status = status
                        if status != "SUCCEEDED":
                            error = execution.get("error") or status
                            cause = tasks.cause_summary(execution.get("cause"), 100)
                            result.reason = f"run {result.run} {status}: {error}" + (
                                f": {cause}" if cause else ""
                            )
                        del pending[arn]
                if pending:
                    time.sleep(1.0)
        for result in pending.values():
            result.final_status = "RUNNING"


def candidates(
    target: Target, since: timedelta, *, include_permanent: bool = False
) -> tuple[list[str], list[str]]:
    """(to redrive, left alone): the tasks whose current run failed within `since` (failed
    executions + intake); those that failed permanently are left alone unless included."""
    runs = tasks.dead_lettered(
        target.client("stepfunctions"), target.table(), target.state_machine_arn, utc_now() - since
    )
    current = [run for run in runs if run.current_run == run.execution_name]
    permanent = [run.task_id for run in current if run.error == PERMANENT_ERROR_NAME]
    chosen = [run.task_id for run in current if include_permanent or run.task_id not in permanent]
    left = [] if include_permanent else permanent
    return list(dict.fromkeys(chosen)), list(dict.fromkeys(left))


# Why a redrive was refused (the start of Result.reason) -> what to do next.
_NEXT_STEPS = (
    ("unknown task", "check the taskId: `ftb tasks` lists the tasks"),
    ("still running", "wait for the run to end: `ftb status {task}`"),
    ("still queued", "wait for it to start and end: `ftb status {task}`"),
    ("succeeded", "nothing to do: `ftb status {task}` shows its result"),
    (
        "dead-lettered at intake",
        "`ftb redrive {task} --payload '<the payload it was submitted with>'`",
    ),
    (
        "--payload is not",
        "pass the payload the task was submitted with: `ftb redrive {task} --payload ...`",
    ),
    (
        "another redrive",
        "see `ftb status {task}`; run `ftb redrive {task}` again if it still failed",
    ),
)


def next_step(result: Result) -> str:
    """What to do about a task that was not redriven, or whose new run failed."""
    task = result.task_id
    if result.outcome == "refused":
        for start, hint in _NEXT_STEPS:
            if result.reason.startswith(start):
                return hint.format(task=task)
        return f"see `ftb status {task}` and `ftb history {task}`"
    if result.outcome == "failed":
        return "" if "ftb redrive" in result.reason else f"see `ftb history {task}`"
    if result.final_status not in (None, "SUCCEEDED"):
        return f"see why with `ftb history {task}` and `ftb logs {task}`"
    return ""


def _run(args: argparse.Namespace, output: Output) -> int:
    if args.all_failed == bool(args.task_ids):
        raise CommandError(
            "give the tasks to redrive, or --all-failed (one of the two)",
            "e.g. `ftb redrive task123`, or `ftb redrive --all-failed --since 2h`",
        )
    if args.since is not None and not args.all_failed:
        raise CommandError(
            "--since only applies to --all-failed", "drop --since, or add --all-failed"
        )
    payload = parse_payload(args.payload) if args.payload is not None else None
    if payload is not None and len(args.task_ids) != 1:
        raise CommandError(
            "--payload is for one task dead-lettered at intake", "redrive that one task alone"
        )
    if args.include_permanent and not args.all_failed:
        raise CommandError(
            "--include-permanent only applies to --all-failed",
            "name the tasks to redrive them whatever their error, or add --all-failed",
        )
    target = resolve_target(args, output)
    task_ids: list[str] = list(dict.fromkeys(args.task_ids))
    left_alone: list[str] = []
    if args.all_failed:
        task_ids, left_alone = candidates(
            target, args.since or DEFAULT_SINCE, include_permanent=args.include_permanent
        )
    if left_alone and not output.json_mode:
        shown = ", ".join(left_alone[:5]) + (" …" if len(left_alone) > 5 else "")
        output.note(
            f"left alone: {len(left_alone)} task(s) that failed permanently "
            f"({PERMANENT_ERROR_NAME}: {shown}); --include-permanent redrives them too"
        )
    if not task_ids:
        output.line("no failed tasks to redrive")
        return EXIT_OK
    # --all-failed leaves permanent failures alone unless asked; a task named is warned about.
    warn = None if args.all_failed else output.warn
    redriver = Redriver(target, dry_run=args.dry_run, payload=payload, warn=warn)
    results = list(bounded_map(redriver.redrive, task_ids, _CONCURRENCY))
    if args.wait and not args.dry_run:
        redriver.wait(results, output)
    for result in results:
        result.next_step = next_step(result)
    report(results, output, waited=args.wait and not args.dry_run)
    return EXIT_OK if all(result.ok for result in results) else EXIT_FAILED


def report(results: list[Result], output: Output, *, waited: bool) -> None:
    if output.json_mode:
        output.json([result.to_json() for result in results])
        return
    styles = {"redriven": "green", "resumed": "green", "planned": "cyan", "refused": "yellow"}
    columns = ["Task", "Outcome", "Run", "Execution", "Reason"]
    if waited:
        columns.insert(4, "Result")
    rows = []
    for result in results:
        style = styles.get(result.outcome, "red")
        row = [
            escape(result.task_id),
            f"[{style}]{result.outcome}[/]",
            str(result.run or ""),
            escape(result.execution_name or ""),
            escape(result.reason),
        ]
        if waited:
            row.insert(4, styled_status(result.final_status))
        rows.append(row)
    output.table(columns, rows, overflow_columns=["Reason"])
    hints = [r for r in results if r.next_step]
    for result in hints[:5]:
        prefix = f"{result.task_id}: " if len(results) > 1 else ""
        output.err.print(
            f"[bold]next:[/] {escape(prefix + result.next_step)}", highlight=False, soft_wrap=True
        )
    if len(hints) > 5:
        output.note(f"({len(hints) - 5} more; `--json` gives each task's next step)")
    started = [r for r in results if r.outcome in {"redriven", "resumed"}]
    if started and not waited:
        output.note(f"follow them with `ftb status {' '.join(r.task_id for r in started[:5])}`")
