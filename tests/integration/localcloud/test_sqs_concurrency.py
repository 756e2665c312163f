"""Many consumers on many queues through the local endpoint: each message delivered once.

SQS's contract for a standard queue is at-least-once, but a message received and not yet
deleted is invisible for its visibility timeout: no other consumer gets it meanwhile
(SQS Developer Guide, "Amazon SQS visibility timeout"). Here the timeout is far longer than
the test, every consumer deletes what it receives (or hands it back with a visibility of 0,
which makes it receivable again at once), and the senders keep sending while the consumers
work. So any second delivery of a message that was not handed back is a race in the endpoint,
and any message never delivered was lost by one.

The endpoint runs in process and the clients call its WSGI application directly (the
in-process transport the local cloud's own pollers use), so the threads contend on moto
rather than on sockets. Correctness only: the figures are not timed.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.config import Config

from ftb.localcloud.endpoint import AwsEndpoint

REGION = "us-east-1"
QUEUES = 8
SENDERS = 4
RECEIVERS = 16
MESSAGES = 3000  # in total, spread over the queues
VISIBILITY_SECONDS = 600  # far longer than the test: a second delivery is never a timeout's
HAND_BACK_EVERY = 7  # every 7th message is handed back once (ChangeMessageVisibility 0)
QUIET_SECONDS = 10.0  # no delivery for this long while everything was sent: the end
# Threads switch every 5 ms by default; switching far more often interleaves the calls at
# many more points, so a race shows up in a run of seconds rather than now and then.
SWITCH_INTERVAL_SECONDS = 1e-5


@pytest.fixture
def endpoint() -> Iterator[AwsEndpoint]:
    endpoint = AwsEndpoint(None, port=0)
    endpoint.start()
    try:
        yield endpoint
    finally:
        endpoint.stop()


@pytest.fixture
def frequent_thread_switches() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def _client(endpoint: AwsEndpoint) -> Any:
    # No retries: a 5xx from the endpoint is a defect to see, not to hide.
    client = boto3.client(
        "sqs",
        region_name=REGION,
        endpoint_url=endpoint.url,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
    assert endpoint.transport is not None
    return endpoint.transport.attach(client)


@dataclass
class Ledger:
    """Who holds which message: every delivery is checked against it."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: set[str] = field(default_factory=set)
    held: set[str] = field(default_factory=set)  # delivered, not yet deleted or handed back
    deleted: set[str] = field(default_factory=set)
    handed_back: set[str] = field(default_factory=set)
    deliveries: Counter[str] = field(default_factory=Counter)
    duplicates: list[str] = field(default_factory=list)  # delivered while held, or after delete
    errors: list[str] = field(default_factory=list)
    last_delivery: float = field(default_factory=time.monotonic)

    def delivered(self, body: str) -> None:
        with self.lock:
            self.deliveries[body] += 1
            self.last_delivery = time.monotonic()
            if body in self.held or body in self.deleted:
                self.duplicates.append(body)
            self.held.add(body)


def _send(client: Any, urls: list[str], numbers: range, ledger: Ledger) -> None:
    try:
        for start in range(numbers.start, numbers.stop, 10):
            batch = [f"m{n}" for n in range(start, min(start + 10, numbers.stop))]
            url = urls[start // 10 % len(urls)]
            with ledger.lock:
                ledger.sent.update(batch)
            answer = client.send_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(batch)],
            )
            if answer.get("Failed"):
                ledger.errors.append(f"send failed: {answer['Failed']}")
    except Exception as error:  # the test reports it
        ledger.errors.append(f"sender: {error!r}")


def _receive(
    client: Any, urls: list[str], offset: int, ledger: Ledger, stop: threading.Event
) -> None:
    turn = offset
    while not stop.is_set():
        url = urls[turn % len(urls)]
        turn += 1
        try:
            messages = client.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=VISIBILITY_SECONDS,
                WaitTimeSeconds=0,
            ).get("Messages", [])
            for message in messages:
                ledger.delivered(message["Body"])
            to_delete = []
            for message in messages:
                body = message["Body"]
                number = int(body[1:])
                with ledger.lock:
                    hand_back = number % HAND_BACK_EVERY == 0 and body not in ledger.handed_back
                    if hand_back:  # recorded first: another consumer may get it at once
                        ledger.handed_back.add(body)
                        ledger.held.discard(body)
                if hand_back:
                    client.change_message_visibility(
                        QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                    )
                else:
                    to_delete.append(message)
            if to_delete:
                with ledger.lock:  # before the call: a resurrected message shows as a duplicate
                    for message in to_delete:
                        ledger.held.discard(message["Body"])
                        ledger.deleted.add(message["Body"])
                answer = client.delete_message_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(to_delete)
                    ],
                )
                if answer.get("Failed"):
                    ledger.errors.append(f"delete failed: {answer['Failed']}")
        except Exception as error:  # the test reports it
            ledger.errors.append(f"receiver: {error!r}")


def test_many_consumers_get_each_message_once_and_lose_none(
    endpoint: AwsEndpoint, frequent_thread_switches: None
) -> None:
    # Given QUEUES standard queues with a visibility timeout far longer than the test
    client = _client(endpoint)
    urls = [client.create_queue(QueueName=f"race-{n}")["QueueUrl"] for n in range(QUEUES)]
    ledger = Ledger()
    stop = threading.Event()

    # When SENDERS send MESSAGES while RECEIVERS receive, delete, and hand some back once
    per_sender = MESSAGES // SENDERS
    senders = [
        threading.Thread(
            target=_send,
            args=(_client(endpoint), urls, range(n * per_sender, (n + 1) * per_sender), ledger),
        )
        for n in range(SENDERS)
    ]
    receivers = [
        threading.Thread(target=_receive, args=(_client(endpoint), urls, n, ledger, stop))
        for n in range(RECEIVERS)
    ]
    for thread in senders + receivers:
        thread.start()
    for thread in senders:
        thread.join()
    # Ends once every message was deleted, or nothing was delivered for QUIET_SECONDS (a lost
    # message never comes back within the visibility timeout).
    while True:
        with ledger.lock:
            done = ledger.deleted >= ledger.sent
            quiet = time.monotonic() - ledger.last_delivery > QUIET_SECONDS
        if done or quiet:
            break
        time.sleep(0.1)
    stop.set()
    for thread in receivers:
        thread.join()

    # Then no call failed, no message was delivered twice while held or after its delete,
    # every message was delivered and deleted, and the queues are empty
    assert len(ledger.sent) == MESSAGES
    lost = ledger.sent - ledger.deleted
    figures = {
        "failed calls": len(ledger.errors),
        "duplicate deliveries": len(ledger.duplicates),
        "lost": len(lost),
    }
    assert figures == {"failed calls": 0, "duplicate deliveries": 0, "lost": 0}, (
        f"{figures}; first failures: {ledger.errors[:3]}; duplicates: {ledger.duplicates[:5]}"
    )
    handed_back = {body for body in ledger.sent if int(body[1:]) % HAND_BACK_EVERY == 0}
    expected = Counter({body: 1 + (body in handed_back) for body in ledger.sent})
    assert ledger.deliveries == expected
    for url in urls:
        attributes = client.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        assert attributes == {
            "ApproximateNumberOfMessages": "0",
            "ApproximateNumberOfMessagesNotVisible": "0",
        }
