"""The cyclic garbage collector, paused while `ftb` imports its commands and `ftb local` starts.

A cached start creates about 300,000 long-lived objects (moto's, botocore's and the Step
Functions engine's modules and models) and almost no garbage: 5,000 unreachable objects at
ready, measured. Meanwhile the collector ran dozens of times, each older-generation pass
walking everything created so far: about 14 % of the start's CPU. Paused for the start, the
heap is then frozen (`gc.freeze`: later collections do not walk it) and the collector runs
again: the start's few cycles stay in memory, each later collection walks only what the
running cloud creates.
"""

from __future__ import annotations

import gc

_paused = False


def pause() -> None:
    """Stop automatic collections until `resume()` (no-op when someone else disabled them)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Freeze what exists now and collect automatically again (only after our `pause()`)."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
