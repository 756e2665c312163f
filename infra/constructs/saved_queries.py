"""The stack's saved Logs Insights queries (AWS::Logs::QueryDefinition), one per infra.queries
entry, listed in the console under a folder named after the stack."""

from __future__ import annotations

from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import names
from infra.queries import ALL_QUERIES, Source


class SavedQueries(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stack_name: str,
        function_log_groups: dict[str, logs.ILogGroup],
        workflow_log_group: logs.ILogGroup,
    ) -> None:
        super().__init__(scope, construct_id)
        functions = [group.log_group_name for group in function_log_groups.values()]
        groups = {
            Source.ALL: [*functions, workflow_log_group.log_group_name],
            Source.FUNCTIONS: functions,
            Source.WORKFLOW: [workflow_log_group.log_group_name],
            Source.MONITOR: [function_log_groups[names.MONITOR_DLQ.key].log_group_name],
        }
        self.definitions: dict[str, logs.CfnQueryDefinition] = {}
        for query in ALL_QUERIES:
            # The L1 resource: logs.QueryString (the L2's builder) orders its commands
            # fields-parse-filter-stats-sort-limit and has no second stats nor comments.
            self.definitions[query.key] = logs.CfnQueryDefinition(
                self,
                query.key,
                name=names.saved_query_name(stack_name, query.key),
                query_string=query.query,
                log_group_names=groups[query.source],
            )
