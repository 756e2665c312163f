"""moto's SQS: a race closed, and the messages that snapshots save and restore.

The race: `ReceiveMessage` reads `Queue.pending_message_groups`, a set comprehension over
the queue's in-flight messages, while other receives and deletes of the same queue add to
and discard from that set in their own threads. Under load (five pollers on the task queue, as the
template's `MaxConcurrency` asks) the comprehension fails with "Set changed size during
iteration", and the receive that failed has already marked its messages in flight: they
come back only after the visibility timeout. Reading a copy of the set (`list()` of a set
is one C call under the GIL) makes the read atomic; everything else stays moto's.
"""

from __future__ import annotations

import threading
from typing import Any

from ftb.localcloud.moto_internals import registry
from ftb.localcloud.moto_internals.wall import replace

_lock = threading.Lock()
_installed = False


def pending_message_groups(queue: object) -> set[str]:
    pending = list(queue._pending_messages)  # type: ignore[attr-defined]
    return {message.group_id for message in pending if message.group_id is not None}


def install_race_fixes() -> None:
    """Replace the racy read (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        replace(registry.PENDING_MESSAGE_GROUPS, property(pending_message_groups))
        _installed = True


# -- Snapshots (persistence/sqs.py) -------------------------------------------------------------


def now_millis() -> float:
    """moto's clock for SQS's timestamps (`visible_at`, `delayed_until`), in milliseconds."""
    from moto.core.utils import unix_time_millis

    return float(unix_time_millis())


def new_message(message_id: str, body: str, system_attributes: dict[str, Any]) -> Any:
    """A moto SQS message, as SendMessage builds it before the queue takes it."""
    from moto.sqs.models import Message

    return Message(message_id, body, system_attributes)
