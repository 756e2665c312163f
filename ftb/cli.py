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
from pathlib import Path

from ftb import startup_gc

# The console's port beside `ftb local` (any free one when taken); `ftb console` uses 8321.
CONSOLE_PORT = 8320
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
    "ftb.ops.commands.console",
)


def _console_command(state_file: Path, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "ftb.cli",
        "console",
        "--state-file",
        str(state_file),
        "--port",
        str(port),
    ]


def register_companions() -> None:
    """Composition: `ftb local` (ftb.localcloud) serves the task console (ftb.ops.console), a
    process of its own started once the cloud is ready; neither package imports the other."""
    from ftb.localcloud import companions

    companions.register(
        companions.Companion(
            name="console",
            output="ConsoleUrl",
            port=CONSOLE_PORT,
            command=_console_command,
            description="(the task console: tasks, runs, retries, dead letters, logs)",
        )
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ftb",
        description="The fault-tolerant task backend: run it locally, operate it anywhere.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(name).register(subparsers)
    register_companions()
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
