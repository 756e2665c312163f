"""A function's code, by content: two directories with the same files hash the same, so a
template whose asset moved but whose code did not swaps nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from ftb.localcloud.synth import IGNORED_PARTS, IGNORED_SUFFIXES


def _code_files(directory: Path) -> Iterator[Path]:
    for item in sorted(directory.rglob("*")):
        relative = item.relative_to(directory)
        if (
            item.is_file()
            and not IGNORED_PARTS & set(relative.parts)
            and item.suffix not in IGNORED_SUFFIXES
        ):
            yield item


def digest(directory: Path) -> str:
    """A hash of every file's relative path and bytes (caches left out)."""
    hashed = hashlib.sha256()
    for file in _code_files(directory):
        hashed.update(str(file.relative_to(directory)).encode())
        hashed.update(b"\0")
        hashed.update(file.read_bytes())
        hashed.update(b"\0")
    return hashed.hexdigest()
