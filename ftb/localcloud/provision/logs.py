"""CloudWatch Logs log groups."""

from __future__ import annotations

from typing import Any

from ftb.localcloud.provision.context import ProvisionContext, provisioner
from ftb.localcloud.provision.tags import resource_tags
from ftb.localcloud.template import Resource

# -- CloudWatch Logs ---------------------------------------------------------------------------


def ensure_log_group(
    ctx: ProvisionContext,
    name: str,
    retention_days: Any = None,
    tags: dict[str, str] | None = None,
) -> str:
    logs = ctx.clients.logs
    arn = ctx.arn("logs", f"log-group:{name}:*")
    try:  # tags with the group, as CreateLogGroup takes them: one request, not two
        logs.create_log_group(logGroupName=name, **({"tags": tags} if tags else {}))
    except logs.exceptions.ResourceAlreadyExistsException:
        if tags:  # TagResource takes the log group's ARN without the trailing `:*`
            logs.tag_resource(resourceArn=arn.removesuffix(":*"), tags=tags)
    if retention_days:
        logs.put_retention_policy(logGroupName=name, retentionInDays=int(retention_days))
    return arn


@provisioner("AWS::Logs::LogGroup")
def _log_group(ctx: ProvisionContext, resource: Resource, props: dict[str, Any]) -> None:
    name = props.get("LogGroupName") or ctx.physical_name(resource, 512)
    tags = resource_tags(ctx, resource, props)
    arn = ensure_log_group(ctx, name, props.get("RetentionInDays"), tags)
    ctx.stack.log_groups[resource.logical_id] = name
    ctx.resolver.set_resource(resource.logical_id, name, {"Arn": arn})


@provisioner("AWS::Logs::QueryDefinition")
def _query_definition(ctx: ProvisionContext, resource: Resource, props: dict[str, Any]) -> None:
    """A saved Logs Insights query, through PutQueryDefinition (Ref: its id, as on AWS)."""
    request: dict[str, Any] = {"name": props["Name"], "queryString": props["QueryString"]}
    if props.get("LogGroupNames"):
        request["logGroupNames"] = list(props["LogGroupNames"])
    if props.get("QueryLanguage"):
        request["queryLanguage"] = props["QueryLanguage"]
    # The same name again (a reload, a restart's re-provisioning) replaces it, not a second one.
    saved = ctx.clients.logs.describe_query_definitions(queryDefinitionNamePrefix=props["Name"])
    for existing in saved["queryDefinitions"]:
        if existing["name"] == props["Name"]:
            request["queryDefinitionId"] = existing["queryDefinitionId"]
    definition_id = ctx.clients.logs.put_query_definition(**request)["queryDefinitionId"]
    ctx.resolver.set_resource(
        resource.logical_id, definition_id, {"QueryDefinitionId": definition_id}
    )
