"""`ftb logs` on a deployed stack (moto): the Insights query it sends, and what it keeps."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from moto.logs.models import logs_backends

from ftb.ops.commands.logs import TASK_LOGS_QUERY, LogLine, matcher, task_logs_query
from tests.support.ops import ACCOUNT, REGION, DeployedStack, Run


def _put(stack: DeployedStack, group: str, messages: list[str]) -> None:
    logs = stack.client("logs")
    existing = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    if not any(item["logGroupName"] == group for item in existing):
        logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="stream")
    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName=group,
        logStreamName="stream",
        logEvents=[
            {"timestamp": now - 1000 * (len(messages) - n), "message": message}
            for n, message in enumerate(messages)
        ],
    )


def _record(stack: DeployedStack, task_id: str, submitted: datetime) -> None:
    stack.client("dynamodb").put_item(
        TableName=stack.table_name,
        Item={
            "taskId": {"S": task_id},
            "payloadDigest": {"S": "x"},
            "submittedAt": {"S": submitted.isoformat(timespec="milliseconds")},
            "executionName": {"S": task_id},
            "expiresAt": {"N": "1"},
        },
    )


def _recorded_queries() -> list[tuple[str, list[str]]]:
    queries = logs_backends[ACCOUNT][REGION].queries.values()
    return [(query.query, query.log_group_names) for query in queries]


def test_the_readme_query_runs_across_the_stacks_log_groups(
    ftb: Callable[..., Run], deployed_stack: DeployedStack
) -> None:
    # Given task-1 in the tasks table, and log lines about task-1 (and about task-10) in two
    # functions' log groups
    _record(deployed_stack, "task-1", datetime.now(UTC))
    submit_group = f"/aws/lambda/{deployed_stack.function_names[0]}"
    process_group = f"/aws/lambda/{deployed_stack.function_names[1]}"
    _put(
        deployed_stack,
        submit_group,
        [
            json.dumps({"level": "INFO", "message": "Task accepted", "taskId": "task-1"}),
            json.dumps({"level": "INFO", "message": "Task accepted", "taskId": "task-10"}),
        ],
    )
    _put(
        deployed_stack,
        process_group,
        [
            "START RequestId: 1 Version: $LATEST",
            json.dumps(
                {"level": "WARNING", "message": "Task failed", "taskId": "task-1", "attempt": 1}
            ),
        ],
    )
    # When the task's logs are asked for on the stack
    run = ftb(
        "logs",
        "task-1",
        "--stack",
        deployed_stack.name,
        "--region",
        REGION,
        "--since",
        "1h",
        "--json",
    )
    # Then one Insights query was sent: the README's query for task-1, over the groups that exist
    assert run.code == 0, run.err
    assert _recorded_queries() == [
        (
            task_logs_query("task-1"),
            sorted([submit_group, process_group, deployed_stack.log_group]),
        )
    ]
    assert 'filter taskId = "task-1" or @message like /task-1/' in TASK_LOGS_QUERY.format(
        task_id="task-1"
    )
    # And only task-1's lines come back, time-ordered, with their log group
    lines = run.json()
    assert [(line["logGroup"], line["fields"]["message"]) for line in lines] == [
        (submit_group, "Task accepted"),
        (process_group, "Task failed"),
    ]


def test_an_unknown_task_is_named_unknown_with_exit_1_even_when_lines_name_it(
    ftb: Callable[..., Run], deployed_stack: DeployedStack
) -> None:
    # Given a log line naming a task the table does not hold (a rejected submission logs it)
    group = f"/aws/lambda/{deployed_stack.function_names[0]}"
    _put(deployed_stack, group, [json.dumps({"message": "Rejected", "taskId": "ghost-1"})])
    # When its logs are asked for
    run = ftb(
        "logs", "ghost-1", "--stack", deployed_stack.name, "--region", REGION, "--since", "1h"
    )
    # Then the line is shown, and the task is said to be unknown, with exit code 1
    assert run.code == 1
    assert "Rejected" in run.out
    assert "task ghost-1 is unknown: no record in the tasks table (1 log lines name it" in run.err


def test_query_runs_any_insights_query(
    ftb: Callable[..., Run], deployed_stack: DeployedStack
) -> None:
    # Given a function's log group with lines (and the workflow's, empty)
    group = f"/aws/lambda/{deployed_stack.function_names[1]}"
    _put(deployed_stack, group, ["one", "two"])
    query = "fields @timestamp, @message | sort @timestamp asc | limit 5"
    # When --query is given on the stack
    run = ftb(
        "logs", "--query", query, "--stack", deployed_stack.name, "--region", REGION, "--json"
    )
    # Then exactly that query is sent and its rows are printed
    assert run.code == 0, run.err
    assert _recorded_queries() == [(query, sorted([group, deployed_stack.log_group]))]
    assert [row["@message"] for row in run.json()] == ["one", "two"]


def test_a_task_id_matches_whole_words_only() -> None:
    # Given lines naming task-1, task-10, task-1's redriven run, and task-1 in an ARN
    def line(message: str) -> LogLine:
        return LogLine(datetime.now(UTC), "/g", message)

    belongs = matcher("task-1", ["task-1", "task-1-r1"])
    # Then the taskId field decides for JSON lines, whole words for the rest
    assert belongs(line(json.dumps({"taskId": "task-1"})))
    assert not belongs(line(json.dumps({"taskId": "task-10", "note": "task-1"})))
    assert belongs(line("arn:aws:states:us-east-1:1:execution:wf:task-1 failed"))
    assert belongs(line("started arn:aws:states:us-east-1:1:execution:wf:task-1-r1"))
    assert not belongs(line("started task-10"))
    assert not belongs(line("started task-1-r2"))


def test_without_since_the_query_window_is_the_tasks_lifetime(
    ftb: Callable[..., Run], deployed_stack: DeployedStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a task submitted a while ago whose only run has ended
    submitted = datetime.now(UTC) - timedelta(hours=3)
    deployed_stack.client("dynamodb").put_item(
        TableName=deployed_stack.table_name,
        Item={
            "taskId": {"S": "old-1"},
            "payloadDigest": {"S": "x"},
            "submittedAt": {"S": submitted.isoformat(timespec="milliseconds")},
            "executionName": {"S": "old-1"},
            "expiresAt": {"N": "1"},
        },
    )
    sfn = deployed_stack.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=deployed_stack.state_machine_arn, name="old-1", input="{}"
    )["executionArn"]
    sfn.stop_execution(executionArn=arn)
    stopped = sfn.describe_execution(executionArn=arn)["stopDate"]
    # When its logs are asked for without --since, a day later
    later = datetime.now(UTC) + timedelta(days=1)
    monkeypatch.setattr("ftb.ops.commands.logs.utc_now", lambda: later)
    run = ftb("logs", "old-1", "--stack", deployed_stack.name, "--region", REGION, "--json")
    # Then the query covers a minute before the submission to 15 minutes after the run ended
    assert run.code == 0, run.err
    [query] = logs_backends[ACCOUNT][REGION].queries.values()
    assert query.start_time == int((submitted - timedelta(minutes=1)).timestamp())
    assert query.end_time == int((stopped + timedelta(minutes=15)).timestamp()) + 1
    assert query.query == task_logs_query("old-1")
