"""A race in moto's SQS that concurrent consumers of one queue hit, closed.

`ReceiveMessage` reads `Queue.pending_message_groups`, a set comprehension over the queue's
in-flight messages, while other receives and deletes of the same queue add to and discard
from that set in their own threads. Under load (five pollers on the task queue, as the
template's `MaxConcurrency` asks) the comprehension fails with "Set changed size during
iteration", and the receive that failed has already marked its messages in flight: they
come back only after the visibility timeout. Reading a copy of the set (`list()` of a set
is one C call under the GIL) makes the read atomic; everything else stays moto's.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_installed = False


def _pending_message_groups(queue: object) -> set[str]:
    pending = list(queue._pending_messages)  # type: ignore[attr-defined]
    return {message.group_id for message in pending if message.group_id is not None}


def install_moto_race_fixes() -> None:
    """Replace the racy read (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        from moto.sqs.models import Queue

        Queue.pending_message_groups = property(_pending_message_groups)  # type: ignore[assignment,method-assign]
        _installed = True
