"""How the operator commands talk back: rich tables for people, `--json` for scripts.

Exit codes (every command): 0 it did what was asked; 1 a task is unknown or failed (or a
submission/redrive was refused); 2 the command could not run (a usage error, or no target to
talk to). Every error message ends with what to do next.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
# Piped (no terminal to fit), tables keep every row on one line up to this width: rich would
# otherwise assume 80 columns and fold every cell (COLUMNS, when set, still wins).
PIPED_WIDTH = 4096

# Status colours shared by every table.
STATUS_STYLES = {
    "SUCCEEDED": "green",
    "FAILED": "red",
    "TIMED_OUT": "red",
    "ABORTED": "red",
    "RUNNING": "cyan",
    "QUEUED": "yellow",
    "PENDING_REDRIVE": "cyan",
}


class CommandError(Exception):
    """A failure the user can act on: what went wrong, and what to do next."""

    def __init__(self, message: str, hint: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code


def styled_status(status: str | None) -> str:
    if not status:
        return ""
    style = STATUS_STYLES.get(status)
    return f"[{style}]{escape(status)}[/]" if style else escape(status)


def stdout_console() -> Console:
    """rich's console for data: the terminal's width, or full width when piped."""
    console = Console(soft_wrap=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(soft_wrap=False, width=PIPED_WIDTH)
    return console


def stderr_console() -> Console:
    """The same for progress and errors (a progress bar's columns are not cut when piped)."""
    console = Console(stderr=True)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(stderr=True, width=PIPED_WIDTH)
    return console


def stderr_joins_stdout() -> bool:
    """Whether stderr is the same pipe or file as stdout (`2>&1 | cat`, `>out 2>&1`), and no
    terminal: then a line on stderr lands in the middle of the data another program reads."""
    try:
        out, err = sys.stdout.fileno(), sys.stderr.fileno()
        if os.isatty(err):
            return False
        a, b = os.fstat(out), os.fstat(err)
    except (AttributeError, ValueError, OSError):  # replaced streams (tests, embedding)
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def to_json(value: Any) -> str:
    return json.dumps(value, indent=2, default=_json_default, ensure_ascii=False)


@dataclass
class Output:
    """One command's output channel. Data goes to stdout; progress and errors to stderr."""

    json_mode: bool = False
    out: Console = field(default_factory=stdout_console)
    err: Console = field(default_factory=stderr_console)

    def json(self, value: Any) -> None:
        # Plain print: rich would re-wrap and highlight, and scripts need the exact text.
        print(to_json(value), file=sys.stdout, flush=True)

    def table(
        self,
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        title: str | None = None,
        caption: str | None = None,
        overflow_columns: Sequence[str] = (),
    ) -> None:
        table = Table(title=title, caption=caption, title_justify="left", caption_justify="left")
        for name in columns:
            if name in overflow_columns:
                table.add_column(name, overflow="fold", ratio=1)
            else:
                table.add_column(name, no_wrap=True)
        for row in rows:
            table.add_row(*(cell if isinstance(cell, str) else str(cell) for cell in row))
        self.out.print(table)

    def line(self, text: str = "") -> None:
        self.out.print(text, highlight=False, soft_wrap=True)

    def note(self, text: str) -> None:
        """Side information (stderr, so it never pollutes --json output)."""
        self.err.print(text, highlight=False, style="dim", soft_wrap=True)

    def context(self, text: str) -> None:
        """Where the command runs (the `target:` line): for the person at the terminal, or a
        log of stderr; never into stdout's data when stderr was merged into it. Flushed
        first, so it comes before anything stdout carries."""
        if stderr_joins_stdout():
            return
        sys.stdout.flush()
        self.note(text)

    def warn(self, text: str) -> None:
        self.err.print(f"[yellow]warning:[/] {text}", highlight=False, soft_wrap=True)

    def error(self, error: CommandError) -> None:
        if self.json_mode:
            body = {"error": error.message, "next": error.hint, "exitCode": error.exit_code}
            print(to_json(body), file=sys.stderr, flush=True)
            return
        self.err.print(
            f"[bold red]error:[/] {escape(error.message)}", highlight=False, soft_wrap=True
        )
        self.err.print(f"[bold]next:[/] {escape(error.hint)}", highlight=False, soft_wrap=True)
