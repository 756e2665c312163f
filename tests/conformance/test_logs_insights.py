"""Logs Insights on the local endpoint over the real functions' log lines: a table of queries
and the rows they must return, driven with the AWS CLI and boto3.

The expected rows are computed here from FilterLogEvents (moto's, a different code path)
over the same groups and window, so each query is checked against the events themselves.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conformance.conftest import WORKLOAD_FAILING, WORKLOAD_SUCCEEDING
from tests.support.aws_cli import CliResult
from tests.support.local_cloud import LocalCloudProcess

TASK = WORKLOAD_FAILING[0]  # conf-bad-3: no other workload id contains it
README_QUERY = (
    "fields @timestamp, @message, @logStream, @log | sort @timestamp desc"
    f" | filter @message like /{TASK}/ | limit 10000"
)


class Events:
    """Every event of the stack's log groups in a window, read with FilterLogEvents."""

    def __init__(self, cloud: LocalCloudProcess) -> None:
        self.cloud = cloud
        self.logs = cloud.client("logs")
        self.account = cloud.client("sts").get_caller_identity()["Account"]
        self.groups = sorted(
            group["logGroupName"]
            for page in self.logs.get_paginator("describe_log_groups").paginate()
            for group in page["logGroups"]
        )
        self.start = int(time.time()) - 3600
        self.end = int(time.time()) + 60
        self.events = self._settled()

    def _read(self) -> list[dict[str, Any]]:
        found = []
        for group in self.groups:
            paginator = self.logs.get_paginator("filter_log_events")
            for page in paginator.paginate(
                logGroupName=group, startTime=self.start * 1000, endTime=self.end * 1000
            ):
                found += [{**event, "group": group} for event in page["events"]]
        return found

    def _settled(self) -> list[dict[str, Any]]:
        """Read until two reads a second apart agree (the last lines ship asynchronously)."""
        previous = self._read()
        for _ in range(30):
            time.sleep(1.0)
            current = self._read()
            if len(current) == len(previous):
                return current
            previous = current
        raise AssertionError("the stack's log lines never settled")

    def json_lines(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        pairs = []
        for event in self.events:
            try:
                document = json.loads(event["message"])
            except ValueError:
                continue
            if isinstance(document, dict):
                pairs.append((event, document))
        return pairs


@pytest.fixture(scope="module")
def events(conformance_cloud: LocalCloudProcess) -> Events:
    return Events(conformance_cloud)


def cli_query(aws: Callable[..., CliResult], events: Events, query: str) -> list[dict[str, str]]:
    """StartQuery + GetQueryResults through the AWS CLI, polled until Complete."""
    started = aws(
        "logs",
        "start-query",
        "--log-group-names",
        *events.groups,
        "--start-time",
        str(events.start),
        "--end-time",
        str(events.end),
        "--query-string",
        query,
    )
    assert started.returncode == 0, started.stderr
    query_id = started.json()["queryId"]
    deadline = time.monotonic() + 60
    while True:
        answer = aws("logs", "get-query-results", "--query-id", query_id)
        assert answer.returncode == 0, answer.stderr
        document = answer.json()
        if document["status"] == "Complete":
            return [{cell["field"]: cell["value"] for cell in row} for row in document["results"]]
        assert document["status"] in {"Scheduled", "Running"}, document
        assert time.monotonic() < deadline
        time.sleep(0.2)


def boto_query(events: Events, query: str, **window: Any) -> list[dict[str, str]]:
    query_id = events.logs.start_query(
        logGroupNames=events.groups,
        startTime=window.get("startTime", events.start),
        endTime=window.get("endTime", events.end),
        queryString=query,
    )["queryId"]
    deadline = time.monotonic() + 60
    while True:
        answer = events.logs.get_query_results(queryId=query_id)
        if answer["status"] == "Complete":
            return [{cell["field"]: cell["value"] for cell in row} for row in answer["results"]]
        assert answer["status"] in {"Scheduled", "Running"}, answer
        assert time.monotonic() < deadline
        time.sleep(0.2)


def insights_time(millis: int) -> str:
    moment = datetime.fromtimestamp(millis / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{millis % 1000:03d}"


def test_the_readme_query_returns_exactly_the_tasks_lines_newest_first(
    aws: Callable[..., CliResult], events: Events
) -> None:
    # Given the stack's log lines after the workload (the failing task among them)
    expected = [event for event in events.events if TASK in event["message"]]
    assert len(expected) >= 3, "the workload should have logged the task several times"
    # When the original README's query runs through the AWS CLI
    rows = cli_query(aws, events, README_QUERY)
    # Then exactly that task's lines come back, with their group, stream and time
    got = Counter(
        (row["@timestamp"], row["@message"], row["@log"], row["@logStream"]) for row in rows
    )
    want = Counter(
        (
            insights_time(event["timestamp"]),
            event["message"],
            f"{events.account}:{event['group']}",
            event["logStreamName"],
        )
        for event in expected
    )
    assert got == want
    # And newest first, each row with its @ptr
    stamps = [row["@timestamp"] for row in rows]
    assert stamps == sorted(stamps, reverse=True)
    assert all(row["@ptr"] for row in rows)


def test_a_malformed_query_is_refused(aws: Callable[..., CliResult], events: Events) -> None:
    # When a query with an unknown command is started through the CLI
    result = aws(
        "logs",
        "start-query",
        "--log-group-name",
        events.groups[0],
        "--start-time",
        str(events.start),
        "--end-time",
        str(events.end),
        "--query-string",
        "fields @message | frobnicate @message",
    )
    # Then the CLI fails with AWS's error code, naming the symbol and where it is
    assert result.returncode != 0
    assert "MalformedQueryException" in result.stderr
    assert "frobnicate" in result.stderr and "position 19" in result.stderr


def test_stats_count_by_log_agrees_with_filter_log_events(
    aws: Callable[..., CliResult], events: Events
) -> None:
    # When every group's lines are counted by Insights
    rows = cli_query(aws, events, "stats count(*) by @log")
    # Then the counts are FilterLogEvents' counts, group by group
    got = {row["@log"]: int(row["count(*)"]) for row in rows}
    want = Counter(f"{events.account}:{event['group']}" for event in events.events)
    assert got == dict(want)


def _expected_levels(events: Events) -> dict[str, str]:
    return {
        level: str(count)
        for level, count in Counter(
            document["level"] for _, document in events.json_lines() if "level" in document
        ).items()
    }


def _expected_task_counts(events: Events) -> tuple[set[tuple[str, str]], bool]:
    counts = Counter(
        document["taskId"] for _, document in events.json_lines() if "taskId" in document
    )
    return {(task, str(count)) for task, count in counts.items()}, True


def _task_counts(rows: list[dict[str, str]]) -> tuple[set[tuple[str, str]], bool]:
    counts = [int(row["lines"]) for row in rows]
    return {(row["taskId"], row["lines"]) for row in rows}, counts == sorted(counts, reverse=True)


def _expected_failures(events: Events) -> list[dict[str, str]]:
    lines = [
        (event, document)
        for event, document in events.json_lines()
        if document.get("taskId") == TASK and document.get("level") in {"WARNING", "ERROR"}
    ]
    lines.sort(key=lambda pair: pair[0]["timestamp"])
    return [{"message": document["message"]} for _, document in lines]


def _expected_reports(events: Events) -> dict[str, str]:
    reports = [event for event in events.events if event["message"].startswith("REPORT ")]
    return {"reports": str(len(reports))}


@pytest.mark.parametrize(
    ("query", "expected", "compare"),
    [
        # One row per level, counted over the JSON lines.
        (
            "filter ispresent(level) | stats count(*) as n by level",
            _expected_levels,
            lambda rows: {row["level"]: row["n"] for row in rows},
        ),
        # Per-task line counts of the whole workload, most first.
        (
            "filter ispresent(taskId) | stats count(*) as lines by taskId | sort lines desc",
            _expected_task_counts,
            _task_counts,
        ),
        # The failing task's warnings and errors, oldest first, message only.
        (
            f"filter taskId = '{TASK}' and level in ['WARNING', 'ERROR']"
            " | sort @timestamp asc | display message",
            _expected_failures,
            lambda rows: [{"message": row["message"]} for row in rows],
        ),
        # Lambda's REPORT lines, discovered as Insights does (@type).
        (
            "filter @type = 'REPORT' and @duration >= 0 | stats count(*) as reports",
            _expected_reports,
            lambda rows: rows[0],
        ),
    ],
    ids=["levels", "tasks", "failures", "reports"],
)
def test_insights_table(
    events: Events,
    query: str,
    expected: Callable[[Events], Any],
    compare: Callable[[list[dict[str, str]]], Any],
) -> None:
    # When the query runs (boto3)
    rows = boto_query(events, query)
    # Then its rows are the ones computed from the events themselves
    assert compare(rows) == expected(events)


def test_every_workload_task_is_counted_once_with_dedup(events: Events) -> None:
    # When task ids are deduplicated
    rows = boto_query(events, "filter ispresent(taskId) | dedup taskId | fields taskId")
    # Then each task of the workload appears exactly once
    tasks = [row["taskId"] for row in rows]
    assert sorted(tasks) == sorted(set(tasks))
    assert set(WORKLOAD_SUCCEEDING + WORKLOAD_FAILING) <= set(tasks)
