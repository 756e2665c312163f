"""`ftb`: the command line of the fault-tolerant task backend.

The one command registry: `ftb local` comes from the local cloud (`ftb.localcloud`), every
other command from the operator commands (`ftb.ops.commands`). A command module has
`register(subparsers)`, which adds its parser and sets `func(args) -> exit code`. A module
that fails to import fails `ftb` loudly: a command never disappears in silence.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ftb.localcloud import command as local
from ftb.ops.commands import (
    dead_letters,
    history,
    logs,
    outputs,
    redrive,
    set_env,
    status,
    submit,
)

# In the order `ftb --help` lists them.
COMMANDS = (local, outputs, submit, status, history, logs, dead_letters, set_env, redrive)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ftb",
        description="The fault-tolerant task backend: run it locally, operate it anywhere.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.register(subparsers)
    return parser


def _dispatch(argv: Sequence[str] | None) -> tuple[int, argparse.Namespace]:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0), args


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code (what tests call: it never exits)."""
    return _dispatch(argv)[0]


def entry() -> None:
    """The `ftb` program. A command that stopped everything it started may ask to exit at
    once (`args.exit_at_once`: `ftb local`): tearing down the interpreter's heap (moto's and
    botocore's models) would only add a second to Ctrl-C."""
    code, args = _dispatch(None)
    if getattr(args, "exit_at_once", False):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()
