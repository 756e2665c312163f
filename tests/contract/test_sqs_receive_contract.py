"""The receive of moto_internals/sqs_races.py answers as moto's own on the same calls.

The replacement restructures moto's `SQSBackend.receive_message` into locked scan steps; in
one thread it must change nothing: the same messages, in the same order, with the same
attributes and receive counts, the same dead letters, the same FIFO group rules. Each
scenario runs twice on fresh backends, once with moto's original and once with ours.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from moto import mock_aws

from ftb.localcloud.moto_internals import backends
from ftb.localcloud.moto_internals import sqs_races as moto_sqs_races

REGION = "us-east-1"
Receive = Callable[..., list[Any]]


def _received(messages: list[Any]) -> list[tuple[Any, ...]]:
    return [
        (m.body, m.approximate_receive_count, sorted(m.message_attributes), m.group_id)
        for m in messages
    ]


def _standard_with_redrive(receive: Receive) -> list[Any]:
    backend = backends.sqs(REGION)
    dlq = backend.create_queue("contract-dlq")
    policy = {"deadLetterTargetArn": dlq.queue_arn, "maxReceiveCount": 2}
    backend.create_queue("contract", RedrivePolicy=json.dumps(policy))
    attributes = {
        "a": {"DataType": "String", "StringValue": "1"},
        "b": {"DataType": "String", "StringValue": "2"},
    }
    for n in range(6):
        backend.send_message("contract", f"m{n}", message_attributes=attributes)
    seen: list[Any] = []
    # A partial batch, visible again at once, only attribute "a" asked for
    seen.append(_received(receive(backend, "contract", 3, 0, 0, ["a"])))
    # The rest and the first three again (a second receive), held for 30 s
    batch = receive(backend, "contract", 10, 0, 30, ["All"])
    seen.append(_received(batch))
    # One handed back, received a third time: it goes to the dead-letter queue instead
    backend.change_message_visibility("contract", batch[0].receipt_handle, 0)
    seen.append(_received(receive(backend, "contract", 10, 0, 30)))
    seen.append(sorted(m.body for m in backend.get_queue("contract-dlq")._messages))
    # One deleted: nothing visible is left
    backend.delete_message("contract", batch[1].receipt_handle)
    seen.append(_received(receive(backend, "contract", 10, 0, 30)))
    seen.append(sorted(m.body for m in backend.get_queue("contract")._messages))
    return seen


def _fifo_groups(receive: Receive) -> list[Any]:
    backend = backends.sqs(REGION)
    backend.create_queue("contract.fifo", FifoQueue="true", ContentBasedDeduplication="true")
    for body, group in (("g1-a", "g1"), ("g1-b", "g1"), ("g2-a", "g2")):
        backend.send_message("contract.fifo", body, group_id=group, deduplication_id=body)
    seen: list[Any] = []
    first = receive(backend, "contract.fifo", 1, 0, 30)
    seen.append(_received(first))
    # g1 is held: only g2's message can come
    seen.append(_received(receive(backend, "contract.fifo", 10, 0, 30)))
    # g1's first deleted: its second comes
    backend.delete_message("contract.fifo", first[0].receipt_handle)
    seen.append(_received(receive(backend, "contract.fifo", 10, 0, 30)))
    return seen


@pytest.mark.parametrize("scenario", [_standard_with_redrive, _fifo_groups])
def test_our_receive_answers_as_motos_in_one_thread(scenario: Callable[[Receive], Any]) -> None:
    # Given moto's receive and ours (installed: the original is kept for this comparison)
    moto_sqs_races.install_sqs_race_fixes()
    original = moto_sqs_races._ORIGINALS["SQSBackend.receive_message"]
    # When the same calls are made through each, on fresh backends
    with mock_aws():
        theirs = scenario(original)
    with mock_aws():
        ours = scenario(moto_sqs_races.receive_message)
    # Then every answer and every queue's content are the same
    assert ours == theirs
    assert theirs  # the scenario observed something
