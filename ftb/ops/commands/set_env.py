"""`ftb set-env FUNCTION KEY=VALUE... [--unset KEY]`: change a function's environment variables.

"Ship the fix" without a deploy, e.g. `ftb set-env process-task FAILURE_RATE=0` before a
redrive. FUNCTION is a stack function by its key (submit-task, get-task, start-execution,
process-task, monitor-dlq) or a physical function name.

Lambda's UpdateFunctionConfiguration replaces the whole environment, so `ftb` reads the
current one (GetFunctionConfiguration), changes only the given keys, and writes it back with
the RevisionId it read: a concurrent change is refused, never overwritten. New invocations
get the new environment; running ones finish with the old one.

Locally the change lasts until the local cloud restarts. On AWS it drifts from the stack: the
next `make deploy` puts back the template's values.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from botocore.exceptions import ClientError, WaiterError
from rich.markup import escape

from ftb.ops import target as targets
from ftb.ops.commands._common import (
    add_common_arguments,
    resolve_target,
    run_guarded,
)
from ftb.ops.output import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CommandError, Output
from infra import names
from task_domain.aws_errors import error_code

# Lambda's rule for variable names (API_Environment: [a-zA-Z]([a-zA-Z0-9_])+).
_VARIABLE_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]+$")
_NAME_RULE = "a letter, then one or more letters, digits or _"
_FUNCTION_KEYS = ", ".join(spec.key for spec in names.ALL_FUNCTIONS)
# On AWS an update takes a few seconds to apply (LastUpdateStatus InProgress): wait, so that
# the next command (a redrive) runs with it.
_WAIT = {"Delay": 1, "MaxAttempts": 120}
_UNSET = "(unset)"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "set-env",
        help="change a function's environment variables (e.g. process-task FAILURE_RATE=0)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "function",
        metavar="FUNCTION",
        help=f"a stack function ({_FUNCTION_KEYS}) or a physical function name",
    )
    parser.add_argument(
        "assignments",
        nargs="*",
        type=_assignment,
        metavar="KEY=VALUE",
        help="variables to set (an empty VALUE sets an empty string)",
    )
    parser.add_argument(
        "--unset",
        action="append",
        default=[],
        type=_variable_name,
        metavar="KEY",
        help="remove this variable (repeatable)",
    )
    add_common_arguments(parser)
    parser.set_defaults(func=run)


def _variable_name(text: str) -> str:
    if not _VARIABLE_NAME.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a variable name ({_NAME_RULE})")
    return text


def _assignment(text: str) -> tuple[str, str]:
    key, equals, value = text.partition("=")
    if not equals:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE (e.g. FAILURE_RATE=0)")
    return _variable_name(key), value


def run(args: argparse.Namespace) -> int:
    return run_guarded(args, _run)


def changed_environment(
    before: dict[str, str], assignments: dict[str, str], unset: list[str]
) -> dict[str, str]:
    """The environment after setting `assignments` and removing `unset`; others untouched."""
    after = {**before, **assignments}
    for key in unset:
        after.pop(key, None)
    return after


def _run(args: argparse.Namespace, output: Output) -> int:
    assignments = dict(args.assignments)
    both = sorted(set(assignments) & set(args.unset))
    if both:
        raise CommandError(
            f"{', '.join(both)} is both set and unset", "give each variable once", EXIT_USAGE
        )
    if not assignments and not args.unset:
        raise CommandError(
            "nothing to change: no KEY=VALUE and no --unset",
            f"e.g. `ftb set-env {args.function} FAILURE_RATE=0`",
            EXIT_USAGE,
        )
    target = resolve_target(args, output)
    function = target.function_name(args.function)
    if target.kind == "aws" and function not in target.stack_functions().values():
        output.warn(
            f"{args.function} is not one of stack {target.name}'s functions ({_FUNCTION_KEYS})"
        )
    lambda_client = target.client("lambda")
    configuration = _configuration(lambda_client, function, target)
    before = dict((configuration.get("Environment") or {}).get("Variables") or {})
    after = changed_environment(before, assignments, args.unset)
    keys = list(dict.fromkeys([*assignments, *args.unset]))
    changes = [
        {"key": key, "before": before.get(key), "after": after.get(key)}
        for key in keys
        if before.get(key) != after.get(key)
    ]
    if changes:
        _update(lambda_client, function, after, configuration.get("RevisionId"))
    drifts = bool(changes) and target.kind == "aws"
    if output.json_mode:
        output.json(
            {
                "function": function,
                "target": target.description,
                "changes": changes,
                "unchanged": [key for key in keys if before.get(key) == after.get(key)],
                "updated": bool(changes),
                "driftsFromStack": drifts,
            }
        )
    else:
        _report(output, target, function, changes, args)
    if not changes:
        return EXIT_OK
    if drifts:
        output.warn(
            f"this change drifts from stack {target.name}: the next `make deploy` puts back the "
            "template's values; to keep it, change the stack (e.g. `make deploy "
            'CDK_ARGS="-c failureRate=0"`)'
        )
    else:
        restart = " ".join(f"--set-env {args.function}:{k}={v}" for k, v in assignments.items())
        output.note(
            "new invocations use it, running ones finish with the old environment; the local "
            "cloud keeps it across restarts, and forgets it with `ftb local --fresh`"
            + (f" (to start with it then: `ftb local --fresh {restart}`)" if restart else "")
        )
    if function == target.function_name(names.PROCESS_TASK.key):
        output.note("next: re-run the failed tasks with `ftb redrive --all-failed --wait`")
    return EXIT_OK


def _report(
    output: Output,
    target: targets.Target,
    function: str,
    changes: list[dict[str, Any]],
    args: argparse.Namespace,
) -> None:
    if changes:
        output.line(f"{escape(function)}: environment updated")
        output.table(
            ["Variable", "Before", "After"],
            [
                [
                    escape(change["key"]),
                    escape(_shown(change["before"])),
                    escape(_shown(change["after"])),
                ]
                for change in changes
            ],
        )
    changed = {change["key"] for change in changes}
    same = [key for key, _ in args.assignments if key not in changed]
    absent = [key for key in args.unset if key not in changed]
    if same:
        output.note(f"already set to that value: {', '.join(same)}")
    if absent:
        output.note(f"not set, nothing to unset: {', '.join(absent)}")
    if not changes:
        output.note(f"nothing to change in {function}'s environment")


def _shown(value: str | None) -> str:
    return _UNSET if value is None else repr(value) if value == "" else value


def _configuration(lambda_client: Any, function: str, target: targets.Target) -> dict[str, Any]:
    try:
        return dict(lambda_client.get_function_configuration(FunctionName=function))
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
    raise CommandError(
        f"{target.description} has no function {function}",
        f"name a stack function ({_FUNCTION_KEYS}) or a physical name "
        + (
            "(`aws lambda list-functions --endpoint-url " + str(target.endpoint_url) + "`)"
            if target.kind == "local"
            else "(`aws lambda list-functions`)"
        ),
        EXIT_USAGE,
    )


def _update(
    lambda_client: Any,
    function: str,
    variables: dict[str, str],
    revision_id: str | None,
) -> None:
    request: dict[str, Any] = {"FunctionName": function, "Environment": {"Variables": variables}}
    if revision_id:
        request["RevisionId"] = revision_id
    try:
        lambda_client.update_function_configuration(**request)
    except ClientError as exc:
        code = error_code(exc)
        message = exc.response.get("Error", {}).get("Message", "")
        if code == "PreconditionFailedException":
            raise CommandError(
                f"{function}'s configuration changed while it was being updated; nothing "
                "was written",
                "run the command again",
                EXIT_FAILED,
            ) from None
        if code == "ResourceConflictException":
            raise CommandError(
                f"{function} is being updated by someone else: {message}",
                "wait a few seconds and run the command again",
                EXIT_FAILED,
            ) from None
        if code in {"InvalidParameterValueException", "ValidationException"}:
            raise CommandError(
                f"Lambda refused the environment: {message}",
                "change the variables it names (reserved names such as AWS_REGION cannot be set)",
                EXIT_USAGE,
            ) from None
        raise
    try:
        lambda_client.get_waiter("function_updated_v2").wait(
            FunctionName=function, WaiterConfig=_WAIT
        )
    except WaiterError as exc:
        raise CommandError(
            f"{function}'s update did not complete: {exc}",
            f"look at its LastUpdateStatusReason (`aws lambda get-function-configuration "
            f"--function-name {function}`), then run the command again",
            EXIT_FAILED,
        ) from None
