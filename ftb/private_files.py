"""Files that hold secrets, created readable by their user only, from their first byte.

The local cloud writes the state file (its principal's credentials and the API keys it
generated), the saved state (queued messages, table items, log events, configuration changes
such as `ftb set-env` values) and the functions' log (whatever the functions print). On a
shared machine the default umask (022) would make each world-readable. Each is created with
`os.open(..., 0o600)` (no window with the umask's mode, as chmod after a write would leave),
and an existing file is narrowed with fchmod before anything is written to it. Directories
the tools create for them are 0700; a directory that already exists (the user's, or /tmp) is
left as it is, since the files in it are private anyway.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FILE_MODE = 0o600
DIRECTORY_MODE = 0o700


def make_directory(path: Path) -> None:
    """`mkdir -p` with every directory it creates at 0700 (Path.mkdir gives the parents the
    umask's mode)."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made meanwhile by another process
            os.mkdir(directory, DIRECTORY_MODE)


def narrow_directory(path: Path) -> None:
    """A directory that only the tools use (the saved state's): 0700 even if it existed."""
    make_directory(path)
    if path.stat().st_mode & 0o777 != DIRECTORY_MODE:
        os.chmod(path, DIRECTORY_MODE)


def open_file(path: Path, flags: int) -> int:
    """A descriptor on `path`, created 0600 when new and narrowed to 0600 when not (before
    the caller writes anything)."""
    descriptor = os.open(path, flags | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(descriptor, FILE_MODE)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def write_bytes(path: Path, data: bytes, *, sync: bool = False) -> None:
    """Replace `path`'s content (a staging file, renamed into place by the caller)."""
    descriptor = open_file(path, os.O_WRONLY | os.O_TRUNC)
    with open(descriptor, "wb") as out:
        out.write(data)
        out.flush()
        if sync:
            os.fsync(out.fileno())
