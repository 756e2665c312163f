"""Amazon SQS: queues, their messages kept across restarts and reloads."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ftb.localcloud.persistence import sqs as saved
from ftb.localcloud.provision import ProvisionContext
from ftb.localcloud.registry import Persistence, Service, register
from ftb.localcloud.services._common import provided
from ftb.localcloud.template import Resource

QUEUE = "AWS::SQS::Queue"
# SQS's values for an attribute a template stops setting (SetQueueAttributes has no "unset").
_QUEUE_DEFAULTS = {
    "DelaySeconds": "0",
    "MaximumMessageSize": "262144",
    "MessageRetentionPeriod": "345600",
    "ReceiveMessageWaitTimeSeconds": "0",
    "VisibilityTimeout": "30",
    "RedrivePolicy": "",
    "RedriveAllowPolicy": "",
}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _update(
    ctx: ProvisionContext,
    old: ProvisionContext,
    resource: Resource,
    before: dict[str, Any],
    after: dict[str, Any],
) -> list[Callable[[], None]]:
    url = old.stack.queues[resource.logical_id].url
    attributes = {
        key: _text(after[key]) if key in after else _QUEUE_DEFAULTS[key]
        for key in _QUEUE_DEFAULTS
        if before.get(key) != after.get(key)
    }
    if not attributes:
        return []
    return [lambda: ctx.clients.sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)]


def _retire(
    ctx: ProvisionContext, old: ProvisionContext, logical_id: str
) -> tuple[str, list[Callable[[], None]]]:
    """Delete a queue the stack no longer has, unless it holds messages (then: kept, why)."""
    queue = old.stack.queues.get(logical_id)
    if queue is None:
        return "", []
    sqs = ctx.clients.sqs
    counts = sqs.get_queue_attributes(
        QueueUrl=queue.url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    held = sum(int(value) for value in counts.values())
    if held:  # deleting it would lose accepted messages: keep it, say so
        return (
            f"removed from the stack but holds {held} message(s), kept locally; purge it, "
            "then save again (or restart)"
        ), []
    return "", [lambda: sqs.delete_queue(QueueUrl=queue.url)]


def _restore(document: Any, keeper: Any, summary: Any) -> None:
    summary.messages = saved.restore(document, keeper.region)


register(
    Service(
        name="sqs",
        signing_name="sqs",
        moto_responses=(("sqs", "SQSResponse"),),
        provisioners=provided(QUEUE),
        stateful_types=frozenset({QUEUE}),
        # SetQueueAttributes changes these on a queue that keeps its messages.
        live_properties={
            QUEUE: frozenset(
                {
                    "DelaySeconds",
                    "MaximumMessageSize",
                    "MessageRetentionPeriod",
                    "ReceiveMessageWaitTimeSeconds",
                    "VisibilityTimeout",
                    "RedrivePolicy",
                    "RedriveAllowPolicy",
                    "KmsMasterKeyId",
                    "KmsDataKeyReusePeriodSeconds",
                    "SqsManagedSseEnabled",
                    "Tags",
                    "DependsOn",
                }
            )
        },
        update=_update,
        retire=_retire,
        nouns={QUEUE: "queue "},
        persistence=Persistence(
            key="sqs",
            capture=lambda keeper: saved.capture(keeper.region),
            restore=_restore,
            order=20,
        ),
    )
)
