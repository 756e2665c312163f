"""`ftb`: the command line of the fault-tolerant task backend.

The one command registry: `ftb local` comes from the local cloud (`ftb.localcloud`), every
other command from the operator commands (`ftb.ops.commands`). A command module has
`register(subparsers)`, which adds its parser and sets `func(args) -> exit code`. A module
that fails to import fails `ftb` loudly: a command never disappears in silence.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from ftb import startup_gc

# In the order `ftb --help` lists them. Imported when the parser is built: the program pauses
# the garbage collector first, for their imports (ftb/startup_gc.py).
COMMANDS = (
    "ftb.localcloud.command",
    "ftb.ops.commands.outputs",
    "ftb.ops.commands.submit",
    "ftb.ops.commands.status",
    "ftb.ops.commands.history",
    "ftb.ops.commands.logs",
    "ftb.ops.commands.dead_letters",
    "ftb.ops.commands.set_env",
    "ftb.ops.commands.redrive",
    "ftb.ops.commands.chaos",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ftb",
        description="The fault-tolerant task backend: run it locally, operate it anywhere.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(name).register(subparsers)
    return parser


def _dispatch(argv: Sequence[str] | None) -> tuple[int, argparse.Namespace]:
    args = build_parser().parse_args(argv)
    startup_gc.resume()  # imported and parsed (`ftb local` pauses it again for its start)
    return int(args.func(args) or 0), args


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code (what tests call: it never exits)."""
    return _dispatch(argv)[0]


def entry() -> None:
    """The `ftb` program. A command that stopped everything it started may ask to exit at
    once (`args.exit_at_once`: `ftb local`): tearing down the interpreter's heap (moto's and
    botocore's models) would only add a second to Ctrl-C."""
    startup_gc.pause()  # for the commands' imports (ftb/startup_gc.py)
    code, args = _dispatch(None)
    if getattr(args, "exit_at_once", False):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()
