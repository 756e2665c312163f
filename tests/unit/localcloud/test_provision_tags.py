"""The tags a provisioned resource carries: the template's and CloudFormation's own."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from ftb.localcloud.provision.tags import as_list, resource_tags
from ftb.localcloud.template import Resource
from ftb.localcloud.template.intrinsics import StackContext


def test_a_resource_gets_the_template_tags_and_cloudformation_stack_tags() -> None:
    # Given a queue the template tags, in stack "Shop"
    context = StackContext(stack_name="Shop")
    ctx: Any = SimpleNamespace(context=context)
    queue = Resource("OrdersQueue", "AWS::SQS::Queue", {}, {}, (), None)
    props = {"Tags": [{"Key": "team", "Value": "orders"}, {"Key": "tier", "Value": 2}]}
    # When its tags are worked out
    tags = resource_tags(ctx, queue, props)
    # Then the template's (values as text) and aws:cloudformation:* as CloudFormation adds them
    assert tags == {
        "team": "orders",
        "tier": "2",
        "aws:cloudformation:logical-id": "OrdersQueue",
        "aws:cloudformation:stack-id": context.stack_id,
        "aws:cloudformation:stack-name": "Shop",
    }
    # And the list shape the tagging APIs take keeps every pair
    assert {"key": "team", "value": "orders"} in as_list(tags, "key", "value")
