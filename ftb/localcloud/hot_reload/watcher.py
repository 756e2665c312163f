"""Watch the app's sources with watchfiles and hand each settled batch of changes on.

watchfiles (Rust's notify: inotify on Linux) groups the events of one save (editors write a
temporary file and rename it) and yields them once nothing changed for `STEP_MS`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from watchfiles import Change, DefaultFilter, watch

from ftb.localcloud.synth import IGNORED_PARTS, IGNORED_SUFFIXES

# Quiet time that ends a batch, and the longest a batch is held while changes keep coming.
STEP_MS = 50
DEBOUNCE_MS = 1600


class SourceFilter(DefaultFilter):
    """watchfiles' defaults (VCS, editors' swap files, __pycache__...) plus what synth ignores."""

    def __init__(self) -> None:
        super().__init__(
            ignore_dirs=(*DefaultFilter.ignore_dirs, *sorted(IGNORED_PARTS), ".ftb"),
            ignore_entity_patterns=(
                *DefaultFilter.ignore_entity_patterns,
                *(re.escape(suffix) + "$" for suffix in sorted(IGNORED_SUFFIXES)),
            ),
        )


def net_changes(changes: Iterable[tuple[Change, str]]) -> set[Path]:
    """The files a batch changed, less the ones that came and went within it (an editor's
    or sed's temporary file)."""
    seen: dict[str, set[Change]] = {}
    for change, path in changes:
        seen.setdefault(path, set()).add(change)
    return {
        Path(path)
        for path, kinds in seen.items()
        if not (Change.added in kinds and Change.deleted in kinds and not Path(path).exists())
    }


class SourceWatcher:
    """A thread that calls `on_change(paths)` for every settled batch of changed files, one
    batch at a time (changes made while a batch is handled form the next one)."""

    def __init__(
        self,
        paths: Iterable[Path],
        on_change: Callable[[set[Path]], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        self.paths = [path for path in paths if path.exists()]
        self._on_change = on_change
        self._on_error = on_error
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hot-reload-watch", daemon=True)

    def start(self) -> None:
        if self.paths:
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            for changes in watch(
                *self.paths,
                watch_filter=SourceFilter(),
                debounce=DEBOUNCE_MS,
                step=STEP_MS,
                stop_event=self._stop,
                rust_timeout=500,
                yield_on_timeout=False,
                raise_interrupt=False,
            ):
                if self._stop.is_set():
                    return
                paths = net_changes(changes)
                if paths:
                    self._on_change(paths)
        except Exception as error:  # the watcher itself failed: say so once, the cloud runs on
            if not self._stop.is_set():
                self._on_error(error)
