"""The operator commands: one module each, each with `register(subparsers)`.

A registered subcommand sets `func(args) -> exit code` on its parser; `ftb.cli` calls it.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from ftb.commands import dead_letters, history, logs, redrive, set_env, status, submit

MODULES = (submit, status, history, logs, dead_letters, set_env, redrive)


def register_all(subparsers: Any) -> None:
    for module in MODULES:
        module.register(subparsers)


def build_parser(prog: str = "ftb") -> argparse.ArgumentParser:
    """A parser with only the operator commands (tests, and `python -m ftb.commands`)."""
    parser = argparse.ArgumentParser(prog=prog)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    register_all(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))
