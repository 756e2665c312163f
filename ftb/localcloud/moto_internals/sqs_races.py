"""The races of moto's SQS under concurrent consumers, closed; and its receives made gateable.

moto's `Queue` keeps its messages in a list and its in-flight ones in a set, and only the
append of `SendMessage` and the long-poll wait hold the queue's lock (`_messages_lock`, a
Condition over an RLock). The endpoint's server is threaded and `ftb local` runs many pollers,
so concurrent calls on one queue hit these (moto 5.2, `moto/sqs/models.py`):

1. Two receives read the same visible messages and both mark them received: one message
   delivered twice within its visibility timeout (`SQSBackend.receive_message` reads
   `queue.messages`, then marks each message, with nothing held).
2. `Queue.delete_message` rebuilds the list (`self._messages = new_messages`) from a copy it
   read: a message sent meanwhile is lost, and of two concurrent deletes one comes back to
   life (it is delivered again after it was deleted).
3. A receive moving a message to the dead-letter queue calls `_messages.remove`: after a
   concurrent delete rebuilt the list, or a second receive moved it first, it raises
   ValueError (a 500, with the receive's other messages already marked in flight) or the
   message ends up in both queues.
4. `pending_messages.remove` in a receive (a message visible again) and in
   `change_message_visibility` (visibility set to 0) raise KeyError when another call
   removed it first: a 500, and the receive's marked messages wait out their timeout.

Each patch below holds the queue's own lock around what the original does, so calls on one
queue mutate it one at a time; a long-poll still waits without it. The receive is moto's,
restructured into steps (one scan of the queue) and waits: each step runs under the lock and
under the caller's `ReceiveGuard` (the endpoint passes its snapshot gate), the waits under
neither, so a snapshot never sees a dead letter half-moved and a long poll never holds it.
A dead letter is added to its dead-letter queue after the source queue's lock is released
(still inside the guard): one lock at a time, so a chain of queues cannot deadlock.

What is deliberately not changed: moto's order within a scan (a message past its retention is
marked received and the scan ends, as moto does), the FIFO group rules, the one-second
re-checks of a long poll, and `Queue.add_message`'s deduplication check (a send race, not a
receive race).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from copy import deepcopy
from typing import Any, Protocol

from ftb.localcloud.moto_internals import registry
from ftb.localcloud.moto_internals.wall import replace


class ReceiveGuard(Protocol):
    """What a receive holds around each step that may change a queue (a snapshot gate)."""

    def step(self) -> AbstractContextManager[object]: ...

    def changed(self) -> None:
        """The step changed a queue (it received or dead-lettered messages)."""


_guard: ContextVar[ReceiveGuard | None] = ContextVar("ftb_sqs_receive_guard", default=None)
_lock = threading.Lock()
_installed = False
_ORIGINALS: dict[str, Callable[..., Any]] = {}


@contextmanager
def receive_steps_guarded_by(guard: ReceiveGuard | None) -> Iterator[None]:
    """For the calls this thread makes inside: each receive step holds `guard.step()`."""
    token = _guard.set(guard)
    try:
        yield
    finally:
        _guard.reset(token)


# -- the patches (each replaces the moto attribute its name says) -----------------------------


def receive_message(
    backend: Any,
    queue_name: str,
    count: int,
    wait_seconds_timeout: int,
    visibility_timeout: int,
    message_attribute_names: list[str] | None = None,
) -> list[Any]:
    """Replaces `moto.sqs.models.SQSBackend.receive_message`: the same scan, one queue lock
    per step, the caller's guard per step, the waits outside both (races 1, 3, 4)."""
    names = message_attribute_names or []
    queue = backend.get_queue(queue_name)
    polling_end = time.time() + wait_seconds_timeout
    guard = _guard.get()
    while True:
        with guard.step() if guard is not None else nullcontext():
            result, dead_letters = _receive_step(
                backend, queue, queue_name, count, visibility_timeout, names
            )
            for message in dead_letters:  # the source queue's lock is released: one at a time
                queue.dead_letter_queue.add_message(message)
            if guard is not None and (result or dead_letters):
                guard.changed()
        if result or not wait_seconds_timeout or time.time() > polling_end:
            return result
        queue.wait_for_messages(1)


def _receive_step(
    backend: Any, queue: Any, queue_name: str, count: int, visibility_timeout: int, names: list[str]
) -> tuple[list[Any], list[Any]]:
    """One scan of the queue under its lock: what moto's loop body does. Returns the copies
    to answer with and the messages taken off the queue for its dead-letter queue."""
    from moto.sqs.models import _filter_message_attributes

    result: list[Any] = []
    dead_letters: list[Any] = []
    with queue._messages_lock:
        pending = queue._pending_messages
        pending_groups = {m.group_id for m in pending if m.group_id is not None}
        for message in queue.messages:  # visible and not delayed
            if message in pending:
                # In flight but visible again: its consumer timed out.
                pending.discard(message)
                pending_groups = {m.group_id for m in pending if m.group_id is not None}
            if message.group_id and queue.fifo_queue and message.group_id in pending_groups:
                continue  # an earlier receive still holds this message group
            policy = queue.redrive_policy
            if (
                queue.dead_letter_queue is not None
                and policy
                and message.approximate_receive_count >= policy["maxReceiveCount"]
            ):
                dead_letters.append(message)
                continue
            pending.add(message)
            message.mark_received(visibility_timeout=visibility_timeout)
            copy = deepcopy(message)  # the answer's attributes are filtered, not the message's
            _filter_message_attributes(copy, names)
            if not backend.is_message_valid_based_on_retention_period(queue_name, message):
                break
            result.append(copy)
            if len(result) >= count:
                break
        if dead_letters:
            moved = {id(message) for message in dead_letters}
            queue._messages = [m for m in queue._messages if id(m) not in moved]
    return result, dead_letters


def delete_message(queue: Any, receipt_handle: str) -> None:
    """Replaces `moto.sqs.models.Queue.delete_message`: moto's, under the queue's lock, so
    its rebuild of the message list cannot drop a concurrent send or undo a delete (race 2)."""
    with queue._messages_lock:
        _ORIGINALS["Queue.delete_message"](queue, receipt_handle)


def change_message_visibility(
    backend: Any, queue_name: str, receipt_handle: str, visibility_timeout: int
) -> None:
    """Replaces `moto.sqs.models.SQSBackend.change_message_visibility`: moto's, under the
    queue's lock (race 4)."""
    queue = backend.get_queue(queue_name)
    with queue._messages_lock:
        _ORIGINALS["SQSBackend.change_message_visibility"](
            backend, queue_name, receipt_handle, visibility_timeout
        )


def purge_queue(backend: Any, queue_name: str) -> None:
    """Replaces `moto.sqs.models.SQSBackend.purge_queue`: moto's, under the queue's lock, so
    a receive scanning the queue meanwhile cannot mark a purged message in flight."""
    queue = backend.get_queue(queue_name)
    with queue._messages_lock:
        _ORIGINALS["SQSBackend.purge_queue"](backend, queue_name)


def install_sqs_race_fixes() -> None:
    """Replace the four (idempotent), each through the wall's checked `replace`."""
    global _installed
    with _lock:
        if _installed:
            return
        # The originals stay reachable for the contract tests (tests/contract).
        _ORIGINALS["SQSBackend.receive_message"] = replace(
            registry.SQS_RECEIVE_MESSAGE, receive_message
        )
        _ORIGINALS["Queue.delete_message"] = replace(registry.SQS_DELETE_MESSAGE, delete_message)
        _ORIGINALS["SQSBackend.change_message_visibility"] = replace(
            registry.SQS_CHANGE_VISIBILITY, change_message_visibility
        )
        _ORIGINALS["SQSBackend.purge_queue"] = replace(registry.SQS_PURGE_QUEUE, purge_queue)
        _installed = True
