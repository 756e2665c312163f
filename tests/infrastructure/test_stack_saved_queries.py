"""Saved Logs Insights queries: one AWS::Logs::QueryDefinition per query, under the stack's
folder, over the log groups each reads."""

from __future__ import annotations

import pytest

from infra import names, queries


def _definitions(stack):
    return {
        r["Properties"]["Name"]: r["Properties"]
        for r in stack.of_type("AWS::Logs::QueryDefinition").values()
    }


def _function_log_groups(stack):
    wanted = {spec.log_group_name(stack.stack_name): spec.key for spec in names.ALL_FUNCTIONS}
    return {
        wanted[r["Properties"]["LogGroupName"]]: {"Ref": lid}
        for lid, r in stack.of_type("AWS::Logs::LogGroup").items()
        if r["Properties"].get("LogGroupName") in wanted
    }


def _workflow_log_group(stack):
    [lid] = [
        lid
        for lid, r in stack.of_type("AWS::Logs::LogGroup").items()
        if r["Properties"].get("LogGroupName", "").startswith("/aws/vendedlogs/states/")
    ]
    return {"Ref": lid}


def test_every_saved_query_is_in_the_stack_under_its_folder(stack):
    # Given the stack's query definitions
    definitions = _definitions(stack)
    # Then there is exactly one per saved query, named <stack>/<query>
    assert sorted(definitions) == sorted(f"{stack.stack_name}/{q.key}" for q in queries.ALL_QUERIES)


@pytest.mark.parametrize("query", queries.ALL_QUERIES, ids=lambda q: q.key)
def test_each_query_carries_its_text_and_reads_its_log_groups(stack, query):
    definition = _definitions(stack)[names.saved_query_name(stack.stack_name, query.key)]
    assert definition["QueryString"] == query.query
    functions = _function_log_groups(stack)
    workflow = _workflow_log_group(stack)
    expected = {
        queries.Source.ALL: [*functions.values(), workflow],
        queries.Source.FUNCTIONS: list(functions.values()),
        queries.Source.WORKFLOW: [workflow],
        queries.Source.MONITOR: [functions[names.MONITOR_DLQ.key]],
    }[query.source]
    assert sorted(map(str, definition["LogGroupNames"])) == sorted(map(str, expected))


def test_follow_one_task_reads_every_function_and_the_workflow(stack):
    definition = _definitions(stack)[f"{stack.stack_name}/{names.QUERY_FOLLOW_ONE_TASK}"]
    assert len(definition["LogGroupNames"]) == len(names.ALL_FUNCTIONS) + 1
    assert names.QUERY_TASK_ID_PLACEHOLDER in definition["QueryString"]
