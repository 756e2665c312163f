"""A checkpoint is one moment across a queue and its dead-letter queue.

A receive moves a message past `maxReceiveCount` to the dead-letter queue (SQS Developer
Guide, "Using dead-letter queues"). The snapshot captures the queues one after the other
while holding the snapshot gate (persistence/quiesce.py); if a receive could move a message
between the two captures, the saved state would hold that dead letter twice or not at all.
Here consumers keep receiving (and so dead-lettering) while snapshots are taken as fast as
the gate allows, and every snapshot must hold every message exactly once.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from ftb.localcloud.endpoint import AwsEndpoint
from ftb.localcloud.persistence import sqs as saved_sqs
from ftb.localcloud.persistence.quiesce import SnapshotGate

REGION = "eu-west-3"  # a region of its own: moto's backends outlive the tests of this process
MESSAGES = 600
RECEIVERS = 6


@pytest.fixture
def endpoint() -> Iterator[AwsEndpoint]:
    endpoint = AwsEndpoint(None, port=0)
    endpoint.gate = SnapshotGate()
    endpoint.start()
    try:
        yield endpoint
    finally:
        endpoint.stop()


def _client(endpoint: AwsEndpoint) -> Any:
    client = boto3.client("sqs", region_name=REGION, endpoint_url=endpoint.url)
    assert endpoint.transport is not None
    return endpoint.transport.attach(client)


def test_every_snapshot_holds_each_message_in_its_queue_or_its_dead_letter_queue_once(
    endpoint: AwsEndpoint,
) -> None:
    # Given a queue whose messages go to its dead-letter queue at their second receive
    client = _client(endpoint)
    dlq_url = client.create_queue(QueueName="cut-dlq")["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    policy = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1}
    url = client.create_queue(
        QueueName="cut-source", Attributes={"RedrivePolicy": json.dumps(policy)}
    )["QueueUrl"]
    for start in range(0, MESSAGES, 10):
        client.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(n), "MessageBody": f"m{start + n}"} for n in range(10)],
        )
    expected = {f"m{n}" for n in range(MESSAGES)}
    stop = threading.Event()
    errors: list[str] = []

    def receive() -> None:
        own = _client(endpoint)
        while not stop.is_set():
            try:  # visible again at once: the next receive dead-letters it
                own.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
            except Exception as error:  # the test reports it
                errors.append(repr(error))

    receivers = [threading.Thread(target=receive) for _ in range(RECEIVERS)]
    for thread in receivers:
        thread.start()

    # When snapshots are taken while the receivers move the messages
    gate = endpoint.gate
    snapshots = mid_move = 0
    bad: list[str] = []
    try:
        while True:
            with gate.exclusive():
                queues = saved_sqs.capture(REGION)["queues"]
            snapshots += 1
            source = [m["body"] for m in queues["cut-source"]["messages"]]
            dead = [m["body"] for m in queues["cut-dlq"]["messages"]]
            held = Counter(source + dead)
            if set(held) != expected or max(held.values()) != 1:
                twice = sorted(body for body, n in held.items() if n > 1)
                bad.append(f"{len(expected - set(held))} missing, twice: {twice[:5]}")
            mid_move += bool(source and dead)
            if not source:
                break
    finally:
        stop.set()
        for thread in receivers:
            thread.join()

    # Then every snapshot held each message exactly once, across both queues
    assert errors == []
    assert bad == [], f"{len(bad)} of {snapshots} snapshots inconsistent: {bad[:3]}"
    assert mid_move > 0  # some snapshots did fall in the middle of the moves
