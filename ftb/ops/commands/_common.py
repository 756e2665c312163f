"""What several operator commands share: arguments, durations, bounded concurrency, errors."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import TypeVar

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from ftb.ops import target as targets
from ftb.ops.output import EXIT_FAILED, EXIT_USAGE, CommandError, Output
from task_domain import models
from task_domain.aws_errors import error_code
from task_domain.models import TASK_ID_PATTERN, TASK_ID_RULE

T = TypeVar("T")
R = TypeVar("R")

TASK_ID = re.compile(TASK_ID_PATTERN)
# Bounded fan-out of per-task AWS calls (DescribeExecution...): fast, and far below the
# Step Functions API's per-account throttles.
DEFAULT_CONCURRENCY = 8

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)", re.IGNORECASE)
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    targets.add_target_arguments(parser)


def parse_duration(text: str) -> timedelta:
    """'90s', '15m', '2h', '1d', '1h30m' -> a timedelta (argparse type)."""
    cleaned = text.strip()
    matches = list(_DURATION.finditer(cleaned))
    if not matches or "".join(m.group(0) for m in matches).replace(" ", "") != cleaned.replace(
        " ", ""
    ):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a duration: use a number and a unit, e.g. 30s, 15m, 2h, 7d, 1h30m"
        )
    seconds = sum(float(m.group(1)) * _UNIT_SECONDS[m.group(2).lower()] for m in matches)
    return timedelta(seconds=seconds)


def task_id_arg(text: str) -> str:
    if not TASK_ID.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a taskId ({TASK_ID_RULE})")
    return text


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be 1 or more")
    return value


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else models.iso(moment)


def short_time(moment: datetime | None) -> str:
    """Local wall-clock time for tables (JSON output keeps ISO-8601 UTC)."""
    if moment is None:
        return ""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def human_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.3f} s" if seconds < 10 else f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def bounded_map(
    function: Callable[[T], R], items: Iterable[T], concurrency: int = DEFAULT_CONCURRENCY
) -> Iterator[R]:
    """function over items with at most `concurrency` in flight, results in input order."""
    listed = list(items)
    if len(listed) <= 1 or concurrency <= 1:
        yield from (function(item) for item in listed)
        return
    with ThreadPoolExecutor(max_workers=min(concurrency, len(listed))) as pool:
        yield from pool.map(function, listed)


def aws_command_error(exc: Exception, target: targets.Target) -> CommandError:
    """An AWS failure in the middle of a command, with what to try next."""
    if isinstance(exc, NoCredentialsError):
        return CommandError(
            "no AWS credentials found", "configure them (`aws configure`) or pass --profile"
        )
    if isinstance(exc, ClientError):
        code = error_code(exc) or "Error"
        message = exc.response.get("Error", {}).get("Message", "")
        if code in {"AccessDenied", "AccessDeniedException"}:
            hint = "use credentials with read access to the stack's resources (--profile)"
        elif code in {"ResourceNotFoundException", "StateMachineDoesNotExist"}:
            hint = (
                "restart the local cloud (`make run`)"
                if target.kind == "local"
                else f"check that stack {target.name} is fully deployed (`make deploy`)"
            )
        else:
            hint = "retry; if it persists, check the service's health and your permissions"
        return CommandError(f"{target.description}: {code}: {message}", hint, EXIT_USAGE)
    if isinstance(exc, BotoCoreError):
        hint = (
            "check that the local cloud still runs (`make run`)"
            if target.kind == "local"
            else "check your network and --region, then retry"
        )
        return CommandError(f"could not reach {target.description}: {exc}", hint)
    raise exc


def run_guarded(args: argparse.Namespace, body: Callable[[argparse.Namespace, Output], int]) -> int:
    """Run one command: resolve errors into a message with a next step and an exit code."""
    output = Output(json_mode=bool(getattr(args, "json", False)))
    try:
        return body(args, output)
    except CommandError as error:
        output.error(error)
        return error.exit_code
    except (ClientError, BotoCoreError) as exc:
        target = getattr(args, "resolved_target", None)
        if target is None:
            raise
        failure = aws_command_error(exc, target)
        output.error(failure)
        return failure.exit_code
    except KeyboardInterrupt:
        output.error(CommandError("interrupted", "run the command again", EXIT_FAILED))
        return 130


def resolve_target(args: argparse.Namespace, output: Output) -> targets.Target:
    target = targets.resolve(args)
    args.resolved_target = target
    output.context(f"target: {target.description}")
    return target
