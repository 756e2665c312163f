"""DynamoDB tables."""

from __future__ import annotations

from typing import Any

from ftb.localcloud.provision.context import ProvisionContext, provisioner
from ftb.localcloud.provision.tags import as_list, resource_tags
from ftb.localcloud.template import Resource

# -- DynamoDB ----------------------------------------------------------------------------------


@provisioner("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")
def _table(ctx: ProvisionContext, resource: Resource, props: dict[str, Any]) -> None:
    name = props.get("TableName") or ctx.physical_name(resource, 255)
    # Capacity settings mean nothing locally: every table is on-demand.
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": "PAY_PER_REQUEST",
    }
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if props.get(key):
            request[key] = [
                {k: index[k] for k in ("IndexName", "KeySchema", "Projection") if k in index}
                for index in props[key]
            ]
    stream = props.get("StreamSpecification")
    if stream and stream.get("StreamViewType"):
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": stream["StreamViewType"],
        }
    dynamodb = ctx.clients.dynamodb
    try:
        description = dynamodb.create_table(**request)["TableDescription"]
    except dynamodb.exceptions.ResourceInUseException:
        description = dynamodb.describe_table(TableName=name)["Table"]
    dynamodb.tag_resource(
        ResourceArn=description["TableArn"], Tags=as_list(resource_tags(ctx, resource, props))
    )
    ttl = props.get("TimeToLiveSpecification") or {}
    if ttl.get("AttributeName") and str(ttl.get("Enabled", True)).lower() == "true":
        dynamodb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
        )
    attrs = {
        "Arn": description["TableArn"],
        "TableId": description.get("TableId", name),
        "StreamArn": description.get("LatestStreamArn", f"{description['TableArn']}/stream/local"),
    }
    ctx.stack.tables[resource.logical_id] = name
    ctx.resolver.set_resource(resource.logical_id, name, attrs)
