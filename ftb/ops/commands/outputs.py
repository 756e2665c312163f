"""`ftb outputs`: the stack's outputs as JSON, read from CloudFormation on the target.

The same call on both targets: DescribeStacks of the stack, on the local cloud's AWS endpoint
(its stack has the local values: execute-api URLs point at the local API) or on AWS with
`--stack NAME`. `--deployed` still reads what `make deploy` saved in cdk-outputs.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ftb import statefile
from ftb.ops import target as targets
from ftb.ops.commands._common import resolve_target, run_guarded
from ftb.ops.output import EXIT_OK, Output


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "outputs",
        help="print the stack outputs as JSON (the local values while `ftb local` runs)",
        description=(
            "Print the stack outputs as a JSON object, from CloudFormation DescribeStacks: the "
            "running local cloud's stack (its local values), a deployed stack with --stack, "
            "or with --deployed those `make deploy` saved in cdk-outputs.json."
        ),
    )
    parser.add_argument(
        "--deployed",
        action="store_true",
        help="the deployed stack's outputs (cdk-outputs.json, written by `make deploy`)",
    )
    targets.add_target_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.deployed:
        return _saved_outputs()
    return run_guarded(args, _described_outputs)


def _described_outputs(args: argparse.Namespace, output: Output) -> int:
    target = resolve_target(args, output)
    # The local cloud's companion servers (ConsoleUrl) are not stack outputs: listed after them.
    output.json({**targets.read_stack_outputs(target), **target.companion_outputs})
    return EXIT_OK


def _saved_outputs() -> int:
    path = statefile.project_root() / "cdk-outputs.json"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        print(
            f"ftb outputs: no deployed outputs ({path} is missing); run `make deploy`",
            file=sys.stderr,
        )
        return 2
    stacks = list(document.values()) if isinstance(document, dict) else []
    print(json.dumps(stacks[0] if len(stacks) == 1 else document, indent=2))
    return 0
