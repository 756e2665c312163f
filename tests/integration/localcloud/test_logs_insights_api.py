"""Logs Insights on the local endpoint (in process), driven with boto3: the five operations,
their shapes, validation and errors as the CloudWatch Logs API reference gives them."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from ftb.localcloud.endpoint import AwsEndpoint
from ftb.localcloud.logs_insights import LogsInsightsApi

REGION = "us-east-1"
ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def logs() -> Iterator[Any]:
    endpoint = AwsEndpoint(None, port=0)
    endpoint.register("logs", LogsInsightsApi())
    endpoint.start()
    try:
        yield boto3.session.Session().client(
            "logs",
            endpoint_url=endpoint.url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
    finally:
        endpoint.stop()


def make_group(logs: Any, messages: list[str], *, seconds_apart: int = 1) -> tuple[str, int]:
    """A fresh group with `messages`, one per second ending now; returns (name, now seconds)."""
    group = f"/aws/lambda/insights-{uuid.uuid4().hex[:8]}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="stream")
    now = int(time.time())
    logs.put_log_events(
        logGroupName=group,
        logStreamName="stream",
        logEvents=[
            {"timestamp": (now - seconds_apart * (len(messages) - n)) * 1000, "message": m}
            for n, m in enumerate(messages)
        ],
    )
    return group, now


def results(logs: Any, query_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        answer: dict[str, Any] = logs.get_query_results(queryId=query_id)
        if answer["status"] not in {"Scheduled", "Running"}:
            return answer
        assert time.monotonic() < deadline, "the query did not finish"
        time.sleep(0.05)


def rows(answer: dict[str, Any]) -> list[dict[str, str]]:
    return [{cell["field"]: cell["value"] for cell in row} for row in answer["results"]]


def test_a_query_runs_to_complete_with_rows_and_statistics(logs: Any) -> None:
    # Given a group with JSON lines for two tasks
    lines = [json.dumps({"level": "INFO", "taskId": f"t{n % 2}", "n": n}) for n in range(5)]
    group, now = make_group(logs, lines)
    # When a stats query is started and polled
    query_id = logs.start_query(
        logGroupName=group, startTime=now - 60, endTime=now, queryString="stats count(*) by taskId"
    )["queryId"]
    answer = results(logs, query_id)
    # Then it completes with one row per task and AWS's statistics
    assert answer["status"] == "Complete"
    assert sorted((row["taskId"], row["count(*)"]) for row in rows(answer)) == [
        ("t0", "3"),
        ("t1", "2"),
    ]
    assert answer["statistics"]["recordsScanned"] == 5.0
    assert answer["statistics"]["recordsMatched"] == 5.0
    assert answer["statistics"]["bytesScanned"] == float(sum(len(line) for line in lines))


def test_every_way_of_naming_log_groups_is_accepted(logs: Any) -> None:
    # Given two groups
    first, now = make_group(logs, ["one"])
    second, _ = make_group(logs, ["two"])
    arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{second}"
    window = {"startTime": now - 60, "endTime": now, "queryString": "fields @message, @log"}
    # When each parameter names them
    by_name = rows(results(logs, logs.start_query(logGroupName=first, **window)["queryId"]))
    by_names = logs.start_query(logGroupNames=[first, second], **window)["queryId"]
    by_identifiers = logs.start_query(logGroupIdentifiers=[first, arn], **window)["queryId"]
    # Then each query reads exactly those groups, @log as account:group
    assert [row["@message"] for row in by_name] == ["one"]
    for query_id in (by_names, by_identifiers):
        found = {(row["@message"], row["@log"]) for row in rows(results(logs, query_id))}
        assert found == {("one", f"{ACCOUNT}:{first}"), ("two", f"{ACCOUNT}:{second}")}


def test_the_time_window_is_inclusive_to_the_second(logs: Any) -> None:
    # Given three events ten seconds apart
    group, now = make_group(logs, ["old", "middle", "new"], seconds_apart=10)
    # When the window starts at the middle one's second and ends at the newest one's
    query_id = logs.start_query(
        logGroupName=group, startTime=now - 20, endTime=now - 10, queryString="fields @message"
    )["queryId"]
    # Then both ends are included and nothing outside
    assert [row["@message"] for row in rows(results(logs, query_id))] == ["new", "middle"]


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        ({"logGroupName": "/nope/missing"}, "ResourceNotFoundException"),
        ({"logGroupNames": ["/nope/missing"]}, "ResourceNotFoundException"),
        ({}, "InvalidParameterException"),
        ({"logGroupName": "G", "logGroupNames": ["G"]}, "InvalidParameterException"),
        ({"logGroupName": "G", "startTime": 10, "endTime": 5}, "InvalidParameterException"),
        ({"logGroupName": "G", "limit": 10_001}, "InvalidParameterException"),
        (
            {"logGroupName": "G", "queryString": "fields @message | explode"},
            "MalformedQueryException",
        ),
    ],
)
def test_start_query_refuses_what_aws_refuses(
    logs: Any, arguments: dict[str, Any], code: str
) -> None:
    # Given an existing group G (named in the arguments)
    group, now = make_group(logs, ["line"])
    call: dict[str, Any] = {"startTime": now - 60, "endTime": now, "queryString": "fields @message"}
    for key, value in arguments.items():
        call[key] = group if value == "G" else [group] if value == ["G"] else value
    # When StartQuery is called with them
    with pytest.raises(ClientError) as refused:
        logs.start_query(**call)
    # Then AWS's error code answers, with a 400
    assert refused.value.response["Error"]["Code"] == code
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_malformed_query_says_where(logs: Any) -> None:
    group, now = make_group(logs, ["line"])
    with pytest.raises(logs.exceptions.MalformedQueryException) as refused:
        logs.start_query(
            logGroupName=group,
            startTime=now - 60,
            endTime=now,
            queryString="fields @message\n| filter @message like",
        )
    error = refused.value.response
    assert "line 2" in error["Error"]["Message"] and "filter" in error["Error"]["Message"]
    assert error["queryCompileError"]["location"]["startCharOffset"] > 0


def test_get_log_record_reads_a_ptr_back(logs: Any) -> None:
    # Given a JSON line found by a query
    group, now = make_group(logs, [json.dumps({"taskId": "t9", "detail": {"code": 7}})])
    query_id = logs.start_query(
        logGroupName=group, startTime=now - 60, endTime=now, queryString="fields @message"
    )["queryId"]
    [row] = rows(results(logs, query_id))
    # When its @ptr is given to GetLogRecord
    record = logs.get_log_record(logRecordPointer=row["@ptr"])["logRecord"]
    # Then the whole record comes back, discovered fields included
    assert record["@message"] == row["@message"]
    assert record["@log"] == f"{ACCOUNT}:{group}" and record["@logStream"] == "stream"
    assert record["taskId"] == "t9" and record["detail.code"] == "7"
    assert record["@timestamp"].isdigit()
    # And a pointer no query returned is refused
    with pytest.raises(ClientError) as refused:
        logs.get_log_record(logRecordPointer="not-a-pointer")
    assert refused.value.response["Error"]["Code"] == "InvalidParameterException"


def test_stop_describe_and_unknown_queries(logs: Any) -> None:
    # Given two finished queries on a group
    group, now = make_group(logs, ["line"])
    window = {"logGroupName": group, "startTime": now - 60, "endTime": now}
    ids = [
        logs.start_query(queryString=f"fields @message | limit {n}", **window)["queryId"]
        for n in (1, 2)
    ]
    for query_id in ids:
        results(logs, query_id)
    # When they are described one per page
    first = logs.describe_queries(logGroupName=group, maxResults=1)
    second = logs.describe_queries(logGroupName=group, maxResults=1, nextToken=first["nextToken"])
    # Then newest first, with their status, and the pages end
    described = first["queries"] + second["queries"]
    assert [query["queryId"] for query in described] == ids[::-1]
    assert {query["status"] for query in described} == {"Complete"}
    assert "nextToken" not in second
    assert logs.describe_queries(logGroupName=group, status="Running")["queries"] == []
    # And stopping a finished query does nothing; an unknown one is not found
    assert logs.stop_query(queryId=ids[0])["success"] is False
    for operation in (logs.stop_query, logs.get_query_results):
        with pytest.raises(ClientError) as refused:
            operation(queryId="00000000-0000-0000-0000-000000000000")
        assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"
