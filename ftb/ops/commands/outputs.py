"""`ftb outputs`: the stack's outputs as JSON (the local values while `ftb local` runs)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ftb import statefile


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "outputs",
        help="print the stack outputs as JSON (the local values while `ftb local` runs)",
        description=(
            "Print the stack outputs as a JSON object: those of the running local cloud, or "
            "with --deployed those `make deploy` saved in cdk-outputs.json."
        ),
    )
    parser.add_argument(
        "--deployed",
        action="store_true",
        help="the deployed stack's outputs (cdk-outputs.json, written by `make deploy`)",
    )
    parser.add_argument(
        "--state-file", type=Path, default=None, help="the local cloud's state file"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    root = statefile.project_root()
    if args.deployed:
        path = root / "cdk-outputs.json"
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
    state_path = statefile.state_file_path(args.state_file, root)
    state = statefile.running(state_path)
    if state is None:
        print(
            f"ftb outputs: the local cloud is not running (no live state file at {state_path}); "
            "start it with `make run` (or `ftb local`), or use --deployed for a deployed stack",
            file=sys.stderr,
        )
        return 2
    print(json.dumps(state.outputs, indent=2))
    return 0
