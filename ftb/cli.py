"""`ftb`: the command line of the fault-tolerant task backend.

The one command registry: `ftb local` comes from the local cloud (`ftb.localcloud`), every
other command from the operator commands (`ftb.ops.commands`). A command module has
`register(subparsers)`, which adds its parser and sets `func(args) -> exit code`. A module
that fails to import fails `ftb` loudly: a command never disappears in silence.
"""

from __future__ import annotations

import argparse
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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
