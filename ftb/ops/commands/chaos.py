"""`ftb chaos list | run NAME | stop [ID]`: the stack's FIS experiments, on either target.

Through the FIS API only (ListExperimentTemplates, GetExperimentTemplate, StartExperiment,
GetExperiment, ListExperiments, StopExperiment): on a deployed stack (`--stack NAME`) AWS
runs the experiment; on the local cloud (`ftb local -c chaos=true`) the local endpoint does.
`run` starts the template whose Name tag is NAME (or whose id it is), then follows it: the
experiment's and each action's state, until it ends. Ctrl-C offers to stop it (and stops it
when nobody can answer).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from rich.markup import escape

from ftb.ops import chaos
from ftb.ops.commands._common import (
    add_common_arguments,
    human_seconds,
    resolve_target,
    run_guarded,
)
from ftb.ops.output import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CommandError, Output

STATUS_STYLE = {
    "completed": "green",
    "running": "cyan",
    "stopped": "yellow",
    "stopping": "yellow",
    "failed": "red",
    "cancelled": "dim",
}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "chaos",
        help="the stack's FIS experiments: list, run (and follow), stop",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verbs = parser.add_subparsers(dest="verb", metavar="list|run|stop", required=True)
    listing = verbs.add_parser("list", help="the stack's experiment templates")
    add_common_arguments(listing)
    listing.set_defaults(func=lambda args: run_guarded(args, _list))
    running = verbs.add_parser("run", help="start an experiment and follow it to its end")
    running.add_argument("name", help="the template's Name tag (or its id)")
    running.add_argument(
        "--no-follow", action="store_true", help="start it and print its id, do not follow"
    )
    running.add_argument(
        "--interval", type=float, default=1.0, metavar="S", help="seconds between polls (1)"
    )
    add_common_arguments(running)
    running.set_defaults(func=lambda args: run_guarded(args, _run))
    stopping = verbs.add_parser("stop", help="stop an experiment (default: every one under way)")
    stopping.add_argument("id", nargs="?", help="the experiment id (EXP...)")
    add_common_arguments(stopping)
    stopping.set_defaults(func=lambda args: run_guarded(args, _stop))


def _scope(target: Any) -> set[str] | None:
    return chaos.stack_template_ids(target.client("cloudformation"), target.name)


def _templates(target: Any, output: Output) -> list[chaos.TemplateInfo]:
    only = _scope(target)
    if only is None:
        output.warn(f"the resources of stack {target.name} could not be read: every template")
    found = chaos.templates(target.client("fis"), only)
    if not found:
        local = target.kind == "local"
        raise CommandError(
            f"{target.description} has no FIS experiment template",
            "start the local cloud with `ftb local -c chaos=true`"
            if local
            else 'deploy the stack with them: `make deploy CDK_ARGS="-c chaos=true"`',
            EXIT_USAGE,
        )
    return found


def _list(args: argparse.Namespace, output: Output) -> int:
    target = resolve_target(args, output)
    found = _templates(target, output)
    if output.json_mode:
        output.json([info.__dict__ for info in found])
        return EXIT_OK
    output.table(
        ["Name", "Id", "Actions", "Stop conditions", "Description"],
        [
            [
                escape(info.name),
                info.id,
                escape("\n".join(info.actions)),
                escape("\n".join(info.stop_conditions)),
                escape(info.description),
            ]
            for info in found
        ],
        title=f"{len(found)} experiment templates",
        overflow_columns=["Actions", "Description"],
    )
    output.note("run one with `ftb chaos run NAME`")
    return EXIT_OK


def _styled(status: str) -> str:
    style = STATUS_STYLE.get(status)
    return f"[{style}]{status}[/]" if style else status


def _run(args: argparse.Namespace, output: Output) -> int:
    target = resolve_target(args, output)
    found = _templates(target, output)
    template = chaos.find_template(found, args.name)
    if template is None:
        raise CommandError(
            f"no experiment template named {args.name!r}",
            f"one of: {', '.join(info.name for info in found)} (`ftb chaos list`)",
            EXIT_USAGE,
        )
    fis = target.client("fis")
    experiment = chaos.start(fis, template.id)
    started = time.monotonic()
    output.note(f"started {template.name}: experiment {experiment['id']}")
    if args.no_follow:
        if output.json_mode:
            output.json(experiment)
        else:
            output.line(experiment["id"])
        return EXIT_OK

    def changed(what: str, current: dict[str, Any]) -> None:
        if output.json_mode:
            return
        elapsed = f"{time.monotonic() - started:5.1f} s"
        if what == "experiment":
            state = current["state"]
            output.line(
                f"{elapsed}  experiment {_styled(state['status'])}  "
                f"{escape(state.get('reason', ''))}"
            )
        else:
            name = what.split(":", 1)[1]
            action = current["actions"][name]
            state = action.get("state") or {}
            output.line(
                f"{elapsed}  action {escape(name)} ({action['actionId']}) "
                f"{_styled(str(state.get('status')))}  {escape(state.get('reason', ''))}"
            )

    while True:
        try:
            final = chaos.follow(fis, experiment["id"], changed, interval=args.interval)
            break
        except KeyboardInterrupt:
            if not _confirm_stop(experiment["id"]):
                output.note(f"left running: `ftb chaos stop {experiment['id']}` stops it")
                return EXIT_OK
            chaos.stop(fis, experiment["id"])
            output.note(f"stopping {experiment['id']}...")
    if output.json_mode:
        output.json(final)
    seconds = time.monotonic() - started
    status = final["state"]["status"]
    output.note(f"{template.name}: {status} after {human_seconds(seconds)}")
    return EXIT_FAILED if status == "failed" else EXIT_OK


def _confirm_stop(experiment_id: str) -> bool:
    """Ctrl-C: ask whether to stop the experiment; without a terminal, stop it."""
    if not sys.stdin.isatty():
        return True
    try:
        answer = input(f"\nstop experiment {experiment_id}? [Y/n] ").strip().lower()
    except (EOFError, KeyboardInterrupt):
        return True
    return answer in {"", "y", "yes"}


def _stop(args: argparse.Namespace, output: Output) -> int:
    target = resolve_target(args, output)
    fis = target.client("fis")
    if args.id:
        ids = [args.id]
    else:
        ids = [summary["id"] for summary in chaos.under_way(fis, _scope(target))]
        if not ids:
            output.note("no experiment under way")
            return EXIT_OK
    stopped = [chaos.stop(fis, experiment_id) for experiment_id in ids]
    if output.json_mode:
        output.json(stopped)
        return EXIT_OK
    for experiment in stopped:
        state = experiment["state"]
        output.line(
            f"{experiment['id']}  {_styled(state['status'])}  {escape(state.get('reason', ''))}"
        )
    return EXIT_OK
