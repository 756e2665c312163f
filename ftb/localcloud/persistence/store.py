"""Where a snapshot lives, and how it is written so that a crash never leaves a half-written one.

One file, `<state-file stem>.saved/snapshot.json` next to the state file (`.ftb/local.saved/`
by default). A save writes `snapshot.json.partial`, flushes it to disk, then renames it over
`snapshot.json` (an atomic replace on POSIX): until the rename the previous snapshot is the
good one, so a save interrupted half-way (SIGKILL, power loss) costs only that save.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ftb import private_files
from ftb.localcloud.persistence import codec

FORMAT = "ftb-local-snapshot"
VERSION = 1
SNAPSHOT_NAME = "snapshot.json"
PARTIAL_SUFFIX = ".partial"
SET_ASIDE_NAME = "snapshot.set-aside.json"


class SnapshotError(Exception):
    """A saved state that cannot be used: the message says why and what to do."""


@dataclass
class LoadedSnapshot:
    document: dict[str, Any]
    path: Path
    discarded_partial: bool  # a save interrupted half-way was found (and ignored)


def state_directory(state_file: Path) -> Path:
    """`.ftb/local.json` -> `.ftb/local.saved/`: one saved state per state file."""
    return state_file.with_name(f"{state_file.stem}.saved")


class SnapshotStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / SNAPSHOT_NAME
        self.partial = directory / (SNAPSHOT_NAME + PARTIAL_SUFFIX)

    def exists(self) -> bool:
        return self.path.exists()

    def write(self, document: dict[str, Any]) -> int:
        """Write atomically; returns the size in bytes."""
        data = codec.dumps({"format": FORMAT, "version": VERSION, **document})
        # Messages, items, log events, configuration values: readable by the user only.
        private_files.narrow_directory(self.directory)
        private_files.write_bytes(self.partial, data, sync=True)
        os.replace(self.partial, self.path)
        with contextlib.suppress(OSError):  # make the rename itself durable
            descriptor = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        return len(data)

    def read(self) -> LoadedSnapshot | None:
        """The last complete snapshot, None when there is none; SnapshotError when unusable."""
        self._narrow()
        discarded = self.partial.exists()
        if discarded:
            self.partial.unlink(missing_ok=True)
        if not self.path.exists():
            others = [p for p in self.directory.glob("*") if p.name != SET_ASIDE_NAME]
            if others:
                raise SnapshotError(
                    f"{self.directory} holds no {SNAPSHOT_NAME}: it is not a saved local "
                    "state. Move it away, or start empty with `ftb local --fresh`"
                )
            return None
        try:
            document = codec.loads(self.path.read_bytes())
        except (OSError, ValueError) as error:
            raise SnapshotError(
                f"the saved local state {self.path} is corrupt ({error}); nothing was loaded. "
                f"Move it away to keep it, or start empty with `ftb local --fresh` "
                f"(which sets it aside as {SET_ASIDE_NAME})"
            ) from None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise SnapshotError(
                f"{self.path} is not a saved local state of `ftb local`; nothing was loaded. "
                "Move it away, or start empty with `ftb local --fresh`"
            )
        if document.get("version") != VERSION:
            raise SnapshotError(
                f"{self.path} was saved in format version {document.get('version')}, this "
                f"`ftb local` reads version {VERSION}; nothing was loaded. Start empty with "
                "`ftb local --fresh`"
            )
        return LoadedSnapshot(document, self.path, discarded)

    def _narrow(self) -> None:
        """A saved state an older `ftb local` wrote with the umask's modes: user only now."""
        if not self.directory.is_dir():
            return
        with contextlib.suppress(OSError):
            private_files.narrow_directory(self.directory)
            for path in self.directory.iterdir():
                if path.is_file() and path.stat().st_mode & 0o077:
                    os.chmod(path, private_files.FILE_MODE)

    def set_aside(self) -> Path | None:
        """`--fresh`: keep the old snapshot (one generation) instead of deleting it."""
        self._narrow()
        self.partial.unlink(missing_ok=True)
        if not self.path.exists():
            return None
        target = self.directory / SET_ASIDE_NAME
        os.replace(self.path, target)
        return target


def age_text(saved_at: float) -> str:
    seconds = max(0.0, time.time() - saved_at)
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"
