"""Step Functions' own execution logs on the local cloud: the state machine logs at level ALL
(LoggingConfiguration) to its log group, one record per history event in AWS's format, so
the stack's saved Insights queries over execution events answer locally as on AWS."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.conformance.conftest import WORKLOAD_FAILING, WORKLOAD_SUCCEEDING
from tests.support.local_cloud import LocalCloudProcess, wait_for


def _records(cloud: LocalCloudProcess) -> list[dict[str, Any]]:
    group = cloud.outputs["StateMachineLogGroupName"]
    return [json.loads(message) for message in cloud.log_messages(group)]


def test_every_history_event_is_logged_in_awss_format(conformance_cloud: LocalCloudProcess) -> None:
    sfn = conformance_cloud.client("stepfunctions")
    arn = conformance_cloud.execution_arn(WORKLOAD_FAILING[0])
    history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]

    # Given a finished execution  When the state machine's log group is read
    def logged() -> list[dict[str, Any]] | None:
        mine = [r for r in _records(conformance_cloud) if r["execution_arn"] == arn]
        return mine if len(mine) == len(history) else None

    records = wait_for(logged, 30, "the execution's events in its log group")
    # Then each event is one record: id, type, previous id, time (ms), ARN, redrive count as
    # strings, in order, with the event's details
    assert [r["id"] for r in records] == [str(e["id"]) for e in history]
    assert [r["type"] for r in records] == [e["type"] for e in history]
    for record, event in zip(records, history, strict=True):
        assert record["previous_event_id"] == str(event["previousEventId"])
        assert record["event_timestamp"] == str(round(event["timestamp"].timestamp() * 1000))
        assert record["redrive_count"] == "0"
    failed = next(r for r in records if r["type"] == "TaskFailed")
    assert failed["details"]["error"] == "PermanentTaskError"
    # ... and no execution data: the stack logs without includeExecutionData
    started = records[0]
    assert started["type"] == "ExecutionStarted" and "input" not in started["details"]


def test_the_saved_retries_query_reads_the_execution_events(
    conformance_cloud: LocalCloudProcess,
) -> None:
    logs = conformance_cloud.client("logs")
    # Given the stack's saved queries, listed as the console lists them
    saved = logs.describe_query_definitions(queryDefinitionNamePrefix="FaultTolerantBackend/")
    by_name = {d["name"].split("/", 1)[1]: d for d in saved["queryDefinitions"]}
    assert {"follow-one-task", "failures-by-error", "retries-per-task"} <= set(by_name)
    retries = by_name["retries-per-task"]
    # When the retries query runs over its log groups
    now = int(time.time())
    query_id = logs.start_query(
        logGroupNames=retries["logGroupNames"],
        startTime=now - 3600,
        endTime=now + 60,
        queryString=retries["queryString"],
    )["queryId"]

    def finished() -> dict[str, Any] | None:
        answer = logs.get_query_results(queryId=query_id)
        return answer if answer["status"] == "Complete" else None

    rows = wait_for(finished, 30, "the query")["results"]
    found = {
        cell["value"].rsplit(":", 1)[-1]: row
        for row in rows
        for cell in row
        if cell["field"] == "execution_arn"
    }
    # Then each permanently failed task has one failed attempt with its error; none succeeded
    assert set(WORKLOAD_FAILING) <= set(found)
    assert not set(WORKLOAD_SUCCEEDING) & set(found)
    for task in WORKLOAD_FAILING:
        fields = {cell["field"]: cell["value"] for cell in found[task]}
        assert fields["failedAttempts"] == "1" and fields["lastError"] == "PermanentTaskError"
