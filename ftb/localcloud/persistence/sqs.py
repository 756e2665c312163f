"""SQS: every queue's messages, with their attributes, receive counts and visibility.

Delays (DelaySeconds) are saved as time left at the save and restored as time left at the
start: the clock stops while the cloud is stopped. A message in flight at the save (received,
not deleted: a hard kill caught a poller with its batch) comes back visible at once, with its
receive count: receipt handles are not kept, so no consumer can delete it or extend its
visibility any more, which is what its visibility timeout waits for. On AWS it would wait the
rest of the timeout (3 minutes on the task queue) for a consumer that is gone. The time left
is still saved (`invisibleForMs`), for the record.
"""

from __future__ import annotations

from typing import Any

from ftb.localcloud.moto_internals import backends
from ftb.localcloud.moto_internals.sqs import new_message, now_millis


def capture(region: str) -> dict[str, Any]:
    backend = backends.sqs(region)
    now = now_millis()
    queues = {}
    for name, queue in list(backend.queues.items()):
        messages = []
        for message in list(queue._messages):
            messages.append(
                {
                    "id": message.id,
                    "body": message.body,
                    "messageAttributes": message.message_attributes,
                    "systemAttributes": message.system_attributes,
                    "senderId": message.sender_id,
                    "sentTimestamp": message.sent_timestamp,
                    "firstReceiveTimestamp": message.approximate_first_receive_timestamp,
                    "receiveCount": message.approximate_receive_count,
                    "deduplicationId": message.deduplication_id,
                    "groupId": message.group_id,
                    "sequenceNumber": message.sequence_number,
                    "invisibleForMs": max(0.0, message.visible_at - now),
                    "delayedForMs": max(0.0, message.delayed_until - now),
                }
            )
        queues[name] = {"fifo": bool(queue.fifo_queue), "messages": messages}
    return {"queues": queues}


def message_count(document: dict[str, Any]) -> int:
    return sum(len(queue["messages"]) for queue in document["queues"].values())


def restore(document: dict[str, Any], region: str) -> int:
    """Put the saved messages back into the (provisioned, empty) queues; returns how many."""
    backend = backends.sqs(region)
    now = now_millis()
    restored = 0
    for name, saved in document["queues"].items():
        queue = backend.queues[name]  # the shape check made sure it exists
        messages = []
        for item in saved["messages"]:
            message = new_message(item["id"], item["body"], item["systemAttributes"])
            message.message_attributes = item["messageAttributes"]
            message.sender_id = item["senderId"]
            message.sent_timestamp = item["sentTimestamp"]
            message.approximate_first_receive_timestamp = item["firstReceiveTimestamp"]
            message.approximate_receive_count = item["receiveCount"]
            message.deduplication_id = item["deduplicationId"]
            message.group_id = item["groupId"]
            message.sequence_number = item["sequenceNumber"]
            message.visible_at = 0.0  # its consumer is gone (see above)
            message.delayed_until = now + item["delayedForMs"] if item["delayedForMs"] else 0.0
            messages.append(message)
        with queue._messages_lock:
            queue._messages.extend(messages)
            queue._messages_lock.notify_all()
        restored += len(messages)
    return restored
