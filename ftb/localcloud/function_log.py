"""Every line the functions write, in one file under `.ftb/` (next to the state file).

The log groups hold the same lines (the AWS way to read them); this file is the `tail -f` way,
kept when the terminal shows only the live view. The standard library's rotating handler
bounds it: a long session keeps its last ~100 MB.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
from datetime import UTC, datetime
from pathlib import Path

from ftb import private_files

MAX_BYTES = 50 * 1024 * 1024
BACKUPS = 1


def log_file_path(state_path: Path) -> Path:
    """`.ftb/local.json` -> `.ftb/local.functions.log`: one log file per state file."""
    return state_path.with_name(f"{state_path.stem}.functions.log")


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Each file it opens (the first, and each after a rollover) is the user's only: the
    functions print whatever they print, secrets included (ftb/private_files.py)."""

    def _open(self) -> io.TextIOWrapper:
        descriptor = private_files.open_file(Path(self.baseFilename), os.O_WRONLY | os.O_APPEND)
        return open(descriptor, "a", encoding=self.encoding, errors=self.errors)  # appends only


class FunctionLog:
    """Appends `TIME SOURCE | LINE` lines; thread-safe (a logging handler has its own lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        private_files.make_directory(path.parent)
        self._handler = _PrivateRotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True
        )
        self._handler.setFormatter(logging.Formatter("%(message)s"))

    def write(self, source: str, line: str) -> None:
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        for part in line.split("\r"):  # Lambda's multi-line records arrive joined by \r
            record = logging.LogRecord(
                "ftb.functions", logging.INFO, "", 0, f"{stamp} {source:>16} | {part}", None, None
            )
            self._handler.handle(record)

    def close(self) -> None:
        self._handler.close()
