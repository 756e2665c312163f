"""SQS's pending_message_groups: moto's property against ours (moto_internals/sqs.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from ftb.localcloud.moto_internals import registry, sqs
from ftb.localcloud.moto_internals.wall import original

REGION = "us-east-1"


@pytest.fixture
def fifo_queue() -> Iterator[Any]:
    from moto import mock_aws
    from moto.backends import get_backend

    with mock_aws():
        backend = get_backend("sqs")["123456789012"][REGION]
        queue = backend.create_queue(
            "contract.fifo", FifoQueue="true", ContentBasedDeduplication="true"
        )
        yield backend, queue


def _theirs(queue: Any) -> set[str]:
    prop = original(registry.PENDING_MESSAGE_GROUPS.owner(), "pending_message_groups")
    return set(prop.fget(queue))


@pytest.mark.parametrize("received", [0, 1, 3, 6])
def test_pending_message_groups(fifo_queue: Any, received: int) -> None:
    # Given a FIFO queue with messages in three groups and `received` of them in flight
    backend, queue = fifo_queue
    for index in range(6):
        backend.send_message(queue.name, f"m{index}", group_id=f"g{index % 3}")
    if received:
        backend.receive_message(queue.name, received, 0, 30)
    # When moto's property and ours read the groups with messages in flight
    # Then they are the same set
    assert sqs.pending_message_groups(queue) == _theirs(queue)


def test_pending_message_groups_after_deletes(fifo_queue: Any) -> None:
    # Given a FIFO queue whose in-flight messages were then deleted
    backend, queue = fifo_queue
    for index in range(4):
        backend.send_message(queue.name, f"m{index}", group_id=f"g{index % 2}")
    messages = backend.receive_message(queue.name, 4, 0, 30)
    for message in messages[:1]:
        backend.delete_message(queue.name, message.receipt_handle)
    # When both read the groups, then they agree
    assert sqs.pending_message_groups(queue) == _theirs(queue)


def test_ours_never_fails_while_the_set_changes() -> None:
    # Given an in-flight set that another thread keeps changing (concurrent receives/deletes)
    class Message:
        def __init__(self, group: str | None) -> None:
            self.group_id = group

    queue: Any = type("Queue", (), {})()
    queue._pending_messages = {Message(f"g{i % 5}") for i in range(200)}
    stop = threading.Event()

    def churn() -> None:
        while not stop.is_set():
            queue._pending_messages.add(Message("g-new"))
            queue._pending_messages.pop()

    thread = threading.Thread(target=churn)
    thread.start()
    try:
        # When ours reads it many times meanwhile
        for _ in range(2000):
            groups = sqs.pending_message_groups(queue)
            # Then every read succeeds and names only the groups present
            assert groups <= {f"g{i}" for i in range(5)} | {"g-new"}
    finally:
        stop.set()
        thread.join()
