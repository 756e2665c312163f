"""Where each function's code comes from, so that a code-only edit is swapped without a synth.

A CDK asset directory (`cdk.out/asset.<hash>`) is a copy of a source directory (minus caches),
and the cloud assembly does not record which one. The source is found by content: the
directory under the watched paths whose files are byte for byte the asset's.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from ftb.localcloud.deploy.code_digest import digest
from ftb.localcloud.synth import IGNORED_PARTS, IGNORED_SUFFIXES

# Never searched for sources (large, or written by the tools themselves).
_SKIPPED_DIRS = {".git", ".venv", ".ftb", "node_modules", "cdk.out", *IGNORED_PARTS}


def _candidates(roots: Iterable[Path]) -> Iterator[Path]:
    for root in roots:
        if not root.is_dir():
            continue
        yield root
        for item in sorted(root.rglob("*")):
            if item.is_dir() and not _SKIPPED_DIRS & set(item.relative_to(root).parts):
                yield item


def find_sources(code_dirs: Iterable[Path], roots: Iterable[Path]) -> dict[Path, Path]:
    """code directory -> the source directory it is a copy of (those found)."""
    wanted: dict[str, list[Path]] = {}
    for code_dir in code_dirs:
        wanted.setdefault(digest(code_dir), []).append(code_dir)
    found: dict[Path, Path] = {}
    for candidate in _candidates(roots):
        match = wanted.get(digest(candidate))
        if match:
            for code_dir in match:
                found.setdefault(code_dir, candidate.resolve())
    return found


def copy_source(source: Path, target: Path) -> Path:
    """A private copy of `source` to run from: the editor may change the source again while
    invocations of this version still import from it (Lambda runs a fixed package too)."""
    shutil.copytree(
        source,
        target,
        ignore=shutil.ignore_patterns(*IGNORED_PARTS, *(f"*{s}" for s in IGNORED_SUFFIXES)),
    )
    return target
