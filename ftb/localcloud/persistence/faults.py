"""The fault injector's counters (when fault injection is on), so that its figures cover every
run of a workload, not only the last one."""

from __future__ import annotations

from typing import Any

from ftb.localcloud.faults import Faults


def capture(faults: Faults | None) -> dict[str, Any] | None:
    return faults.saved_counters() if faults is not None else None


def restore(document: dict[str, Any] | None, faults: Faults | None) -> bool:
    if document is None or faults is None:
        return False  # saved without fault injection, or restarted without it
    faults.restore_counters(document)
    return True
