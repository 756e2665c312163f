"""Amazon DynamoDB: tables and their items, kept across restarts and reloads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ftb.localcloud.persistence import dynamodb as saved
from ftb.localcloud.provision import ProvisionContext
from ftb.localcloud.registry import Persistence, Service, register
from ftb.localcloud.services._common import provided
from ftb.localcloud.template import Resource

TABLE, GLOBAL_TABLE = "AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"


def _update(
    ctx: ProvisionContext,
    old: ProvisionContext,
    resource: Resource,
    before: dict[str, Any],
    after: dict[str, Any],
) -> list[Callable[[], None]]:
    name = old.stack.tables[resource.logical_id]
    ttl_before = before.get("TimeToLiveSpecification") or {}
    ttl_after = after.get("TimeToLiveSpecification") or {}
    if ttl_before == ttl_after:
        return []
    enabled = bool(ttl_after.get("AttributeName")) and (
        str(ttl_after.get("Enabled", True)).lower() == "true"
    )
    attribute = ttl_after.get("AttributeName") or ttl_before.get("AttributeName")
    specification = {"Enabled": enabled, "AttributeName": attribute}
    return [
        lambda: ctx.clients.dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification=specification
        )
    ]


def _restore(document: Any, keeper: Any, summary: Any) -> None:
    summary.items = saved.restore(document, keeper.region)


register(
    Service(
        name="dynamodb",
        signing_name="dynamodb",
        # DynamoDB Streams is signed as "dynamodb" too.
        moto_responses=(
            ("dynamodb", "DynamoHandler"),
            ("dynamodbstreams", "DynamoDBStreamsHandler"),
        ),
        provisioners=provided(TABLE, GLOBAL_TABLE),
        stateful_types=frozenset({TABLE, GLOBAL_TABLE}),
        live_properties={
            TABLE: frozenset(
                {
                    "TimeToLiveSpecification",
                    "BillingMode",
                    "ProvisionedThroughput",
                    "SSESpecification",
                    "PointInTimeRecoverySpecification",
                    "ContributorInsightsSpecification",
                    "DeletionProtectionEnabled",
                    "TableClass",
                    "Tags",
                    "DependsOn",
                }
            )
        },
        kept_on_remove={TABLE: "its items stay", GLOBAL_TABLE: "its items stay"},
        update=_update,
        nouns={TABLE: ""},
        persistence=Persistence(
            key="dynamodb",
            capture=lambda keeper: saved.capture(keeper.region),
            restore=_restore,
            order=30,
        ),
    )
)
