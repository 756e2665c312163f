"""Amazon CloudWatch Logs: log groups and their events (the functions' logs among them)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ftb.localcloud.persistence import logs as saved
from ftb.localcloud.provision import ProvisionContext, ensure_log_group
from ftb.localcloud.registry import Persistence, Service, register
from ftb.localcloud.services._common import ignore, provided
from ftb.localcloud.template import Resource

LOG_GROUP = "AWS::Logs::LogGroup"
QUERY_DEFINITION = "AWS::Logs::QueryDefinition"  # a saved query: put again by every reload


def _update(
    ctx: ProvisionContext,
    old: ProvisionContext,
    resource: Resource,
    before: dict[str, Any],
    after: dict[str, Any],
) -> list[Callable[[], None]]:
    name = old.stack.log_groups[resource.logical_id]
    retention = after.get("RetentionInDays")
    if retention:
        return [lambda: ignore(ensure_log_group(ctx, name, retention))]
    return [lambda: ctx.clients.logs.delete_retention_policy(logGroupName=name)]


def _restore(document: Any, keeper: Any, summary: Any) -> None:
    summary.log_events = saved.restore(document, keeper.region, keeper.log_streams)


register(
    Service(
        name="logs",
        signing_name="logs",
        moto_responses=(("logs", "LogsResponse"),),
        provisioners=provided(LOG_GROUP, QUERY_DEFINITION),
        stateful_types=frozenset({LOG_GROUP}),
        rebuilt_prefixes=(QUERY_DEFINITION,),
        live_properties={
            LOG_GROUP: frozenset({"RetentionInDays", "KmsKeyId", "DataProtectionPolicy", "Tags"})
        },
        # What it holds stays readable (a function's log group goes with the function).
        kept_quietly=frozenset({LOG_GROUP}),
        update=_update,
        nouns={LOG_GROUP: ""},
        persistence=Persistence(
            key="logs",
            capture=lambda keeper: saved.capture(keeper.region, keeper.log_streams),
            restore=_restore,
            order=40,
        ),
    )
)
