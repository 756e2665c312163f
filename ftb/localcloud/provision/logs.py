"""CloudWatch Logs log groups."""

from __future__ import annotations

import contextlib
from typing import Any

from ftb.localcloud.provision.context import ProvisionContext, provisioner
from ftb.localcloud.provision.tags import resource_tags
from ftb.localcloud.template import Resource

# -- CloudWatch Logs ---------------------------------------------------------------------------


def ensure_log_group(ctx: ProvisionContext, name: str, retention_days: Any = None) -> str:
    logs = ctx.clients.logs
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=name)
    if retention_days:
        logs.put_retention_policy(logGroupName=name, retentionInDays=int(retention_days))
    return ctx.arn("logs", f"log-group:{name}:*")


@provisioner("AWS::Logs::LogGroup")
def _log_group(ctx: ProvisionContext, resource: Resource, props: dict[str, Any]) -> None:
    name = props.get("LogGroupName") or ctx.physical_name(resource, 512)
    arn = ensure_log_group(ctx, name, props.get("RetentionInDays"))
    # TagResource takes the log group's ARN without the trailing `:*`.
    ctx.clients.logs.tag_resource(
        resourceArn=arn.removesuffix(":*"), tags=resource_tags(ctx, resource, props)
    )
    ctx.stack.log_groups[resource.logical_id] = name
    ctx.resolver.set_resource(resource.logical_id, name, {"Arn": arn})
