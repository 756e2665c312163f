"""The tags a resource carries when CloudFormation creates it.

AWS (CloudFormation template reference, "Resource tagging"): the template's `Tags`, plus the
stack-level tags CloudFormation adds itself: `aws:cloudformation:logical-id`,
`aws:cloudformation:stack-id` and `aws:cloudformation:stack-name`. Consoles and the CLI list
them (ListTagsForResource, ListQueueTags, ListTagsOfResource), so they are applied locally too.
"""

from __future__ import annotations

from typing import Any

from ftb.localcloud.provision.context import ProvisionContext
from ftb.localcloud.template import Resource


def resource_tags(
    ctx: ProvisionContext, resource: Resource, props: dict[str, Any]
) -> dict[str, str]:
    """The resource's tags as CloudFormation applies them: the template's, then its own."""
    tags = {
        str(tag["Key"]): str(tag["Value"])
        for tag in props.get("Tags") or []
        if isinstance(tag, dict) and "Key" in tag and "Value" in tag
    }
    tags["aws:cloudformation:logical-id"] = resource.logical_id
    tags["aws:cloudformation:stack-id"] = ctx.context.stack_id
    tags["aws:cloudformation:stack-name"] = ctx.context.stack_name
    return tags


def as_list(tags: dict[str, str], key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    """`{k: v}` as the `[{"Key": k, "Value": v}]` lists most tagging APIs take."""
    return [{key: name, value: text} for name, text in tags.items()]
