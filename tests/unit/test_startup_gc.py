"""The collector paused for `ftb local`'s start, then frozen and resumed."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from ftb import startup_gc


@pytest.fixture(autouse=True)
def collector_as_before() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    startup_gc.resume()
    gc.unfreeze()
    (gc.enable if enabled else gc.disable)()


def test_pause_stops_collections_and_resume_freezes_the_heap_then_collects_again() -> None:
    # Given a running collector
    gc.enable()
    # When the start pauses it
    startup_gc.pause()
    # Then nothing collects automatically
    assert not gc.isenabled()
    # When the start is over
    before = gc.get_freeze_count()
    startup_gc.resume()
    # Then what exists is frozen out of later collections, and the collector runs again
    assert gc.isenabled()
    assert gc.get_freeze_count() > before


def test_resume_without_pause_changes_nothing() -> None:
    # Given a collector someone else disabled (and whatever an earlier start in this process
    # froze), when paused and resumed
    gc.disable()
    frozen = gc.get_freeze_count()
    startup_gc.pause()
    startup_gc.resume()
    # Then it stays as that someone left it, with nothing more frozen
    assert not gc.isenabled()
    assert gc.get_freeze_count() == frozen
