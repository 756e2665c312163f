"""SQS queues."""

from __future__ import annotations

import json
from typing import Any

from ftb.localcloud.provision.context import ProvisionContext, Queue, provisioner
from ftb.localcloud.provision.tags import resource_tags
from ftb.localcloud.template import Resource

# -- SQS ---------------------------------------------------------------------------------------

_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
)


@provisioner("AWS::SQS::Queue")
def _queue(ctx: ProvisionContext, resource: Resource, props: dict[str, Any]) -> None:
    fifo = str(props.get("FifoQueue", "false")).lower() == "true"
    name = props.get("QueueName") or ctx.physical_name(resource, 80, ".fifo" if fifo else "")
    attributes = {key: _attr_text(props[key]) for key in _QUEUE_ATTRIBUTES if key in props}
    for key in ("RedrivePolicy", "RedriveAllowPolicy"):
        if key in props:
            value = props[key]
            attributes[key] = value if isinstance(value, str) else json.dumps(value)
    url = ctx.clients.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    ctx.clients.sqs.tag_queue(QueueUrl=url, Tags=resource_tags(ctx, resource, props))
    arn = ctx.clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    ctx.stack.queues[resource.logical_id] = Queue(resource.logical_id, name, url, arn)
    ctx.resolver.set_resource(
        resource.logical_id, url, {"Arn": arn, "QueueName": name, "QueueUrl": url}
    )


def _attr_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
