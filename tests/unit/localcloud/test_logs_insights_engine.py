"""The local Logs Insights engine without an endpoint: the language and what each command does.

Events are built in memory (EventRecord), the query parsed and executed as StartQuery does.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from ftb.localcloud.logs_insights import MalformedQuery, execute, parse_query
from ftb.localcloud.logs_insights.records import EventRecord, read_pointer
from ftb.localcloud.logs_insights.values import format_time, sort_key

BASE = 1_714_564_800_000  # 2024-05-01 12:00:00.000 UTC
GROUP = "/aws/lambda/stack-process"
ACCOUNT = "123456789012"


def powertools(**fields: Any) -> str:
    return json.dumps({"level": "INFO", "service": "tasks", **fields})


def event(minute: float, message: str, group: str = GROUP, index: int = 0) -> EventRecord:
    moment = BASE + int(minute * 60_000)
    return EventRecord(moment, message, moment + 7, group, f"{ACCOUNT}:{group}", "stream-a", index)


def workload() -> list[EventRecord]:
    """Three tasks' lines (task1's second attempt fails), platform lines and a plain line."""
    lines = [
        event(0, "START RequestId: r-1 Version: $LATEST", index=0),
        event(1, powertools(message="Task accepted", taskId="task1", attempt=1), index=1),
        event(2, powertools(message="Task accepted", taskId="task12", attempt=1), index=2),
        event(
            3,
            powertools(
                level="WARNING",
                message="Task failed",
                taskId="task1",
                attempt=2,
                error={"type": "Transient", "codes": [503, 504]},
                cold_start=False,
            ),
            index=3,
        ),
        event(4, "plain text naming task1 and task3", index=4),
        event(
            5,
            "REPORT RequestId: r-1\tDuration: 12.50 ms\tBilled Duration: 13 ms\t"
            "Memory Size: 128 MB\tMax Memory Used: 70 MB",
            index=5,
        ),
        event(
            6, powertools(message="Task done", taskId="task3", attempt=3), "/aws/lambda/other", 0
        ),
    ]
    return lines


def run(text: str, limit: int | None = None) -> list[dict[str, str]]:
    result = execute(parse_query(text), workload(), limit)
    return [{cell["field"]: cell["value"] for cell in row} for row in result.rows]


def messages(rows: list[dict[str, str]]) -> list[str]:
    return [row["@message"] for row in rows]


# -- the README query and filters ---------------------------------------------------------------


def test_the_readme_query_returns_the_tasks_lines_newest_first() -> None:
    # Given lines of task1, task12 (a prefix clash) and others
    # When the original README's query runs for task1
    rows = run(
        "fields @timestamp, @message, @logStream, @log | sort @timestamp desc"
        " | filter @message like /task1/ | limit 10000"
    )
    # Then the regex matches wherever task1 appears (task12 too, as on AWS), newest first
    assert [row["@timestamp"] for row in rows] == [
        format_time(BASE + minute * 60_000) for minute in (4, 3, 2, 1)
    ]
    # And each row has exactly the asked fields plus @ptr, @log as account:group
    assert set(rows[0]) == {"@timestamp", "@message", "@logStream", "@log", "@ptr"}
    assert rows[0]["@log"] == f"{ACCOUNT}:{GROUP}"
    assert rows[0]["@timestamp"] == "2024-05-01 12:04:00.000"


@pytest.mark.parametrize(
    ("condition", "expected_tasks"),
    [
        ('taskId = "task1"', ["task1", "task1"]),
        ('taskId != "task1"', ["task3", "task12"]),
        ("attempt >= 2", ["task3", "task1"]),
        ("attempt > 1 and attempt < 3", ["task1"]),
        ('taskId in ["task3", "task12"]', ["task3", "task12"]),
        ('taskId not in ["task3", "task12"]', ["task1", "task1"]),
        ('taskId like "task1"', ["task1", "task12", "task1"]),
        ("taskId like /^task1$/", ["task1", "task1"]),
        ("taskId =~ /task[23]$/", ["task3"]),
        ("taskId =~ /(?i)TASK12/", ["task12"]),
        ('taskId not like "task1"', ["task3"]),
        ("not (attempt = 1) and ispresent(taskId)", ["task3", "task1"]),
        ('level = "WARNING" or attempt = 3', ["task3", "task1"]),
        ("error.type = 'Transient'", ["task1"]),
        ("error.codes.1 = 504", ["task1"]),
        ("strlen(taskId) > 5", ["task12"]),
        ("attempt * 10 + 1 = 31", ["task3"]),
    ],
)
def test_filter_conditions(condition: str, expected_tasks: list[str]) -> None:
    # When the filter runs over the workload (JSON fields discovered, nested ones with dots)
    rows = run(f"filter {condition} | fields taskId")
    # Then exactly the matching events remain, newest first
    assert [row["taskId"] for row in rows] == expected_tasks


def test_isempty_and_ispresent_tell_absent_fields() -> None:
    # When lines without a taskId are asked for
    rows = run("filter isempty(taskId) | fields @message")
    # Then the platform and plain lines come back, and only they
    assert len(rows) == 3 and all("taskId" not in row for row in rows)
    assert len(run("filter ispresent(error.type)")) == 1


def test_a_query_without_fields_returns_every_discovered_field() -> None:
    # When a filter alone selects the failing line
    [row] = run('filter level = "WARNING"')
    # Then system fields, JSON fields (nested with dots, lists by index) and @ptr come back
    assert row["@message"].startswith("{")
    assert row["error.type"] == "Transient" and row["error.codes.0"] == "503"
    assert row["cold_start"] == "0" and row["attempt"] == "2"
    assert row["@ingestionTime"] == "2024-05-01 12:03:00.007"
    assert read_pointer(row["@ptr"]) == (GROUP, "stream-a", 3)


def test_lambda_report_lines_give_their_figures() -> None:
    # When REPORT lines are asked for their figures
    [row] = run('filter @type = "REPORT" | fields @requestId, @duration, @maxMemoryUsed')
    # Then the figures are discovered as Insights does (ms, bytes)
    assert row["@requestId"] == "r-1"
    assert row["@duration"] == "12.5" and row["@maxMemoryUsed"] == "70000000"


# -- fields, parse, sort, limit, dedup, display ---------------------------------------------------


def test_fields_computes_aliases_with_functions_and_arithmetic() -> None:
    rows = run(
        "filter taskId = 'task1' | fields toupper(taskId) as upper, attempt * 2 + 1 as odd,"
        " concat(taskId, '-', attempt) as label, substr(taskId, 0, 4) as head,"
        " datefloor(@timestamp, 1h) as hour | sort attempt asc | limit 1"
    )
    assert rows == [
        {
            "upper": "TASK1",
            "odd": "3",
            "label": "task1-1",
            "head": "task",
            "hour": "2024-05-01 12:00:00.000",
            "@ptr": rows[0]["@ptr"],
        }
    ]


def test_parse_glob_and_regex_extract_fields() -> None:
    # Given plain lines: parse with a glob, then with a regex with named groups
    glob = run(
        'parse @message "plain text naming * and *" as first, second | filter ispresent(first)'
    )
    regex = run(r"parse @message /naming (?<first>\w+) and (?<second>\w+)/ | display first, second")
    # Then both extract the same two fields; events that do not match keep no value
    assert (glob[0]["first"], glob[0]["second"]) == ("task1", "task3")
    assert [
        {name: row[name] for name in ("first", "second")} for row in regex if "first" in row
    ] == [{"first": "task1", "second": "task3"}]
    assert len(regex) == 7


def test_sort_uses_insights_natural_order_with_absent_values_last() -> None:
    # Insights' ascending order: non-numbers before numbers; digit runs by length then value
    values = ["a12", "5A", "111A", "!:", "A", "0", "2", "@", None]
    assert sorted(values, key=sort_key) == ["!:", "5A", "111A", "@", "A", "a12", "0", "2", None]
    # And in a query, absent values sort last both ways
    rows = run("sort taskId asc | fields taskId")
    assert [row.get("taskId") for row in rows][:4] == ["task1", "task1", "task3", "task12"]
    assert [row.get("taskId") for row in run("sort taskId desc | fields taskId")][:4] == [
        "task12",
        "task3",
        "task1",
        "task1",
    ]


def test_limit_command_and_start_query_limit() -> None:
    assert len(run("fields @message | limit 2")) == 2
    assert len(run("fields @message", limit=3)) == 3  # StartQuery's limit without a command
    assert len(run("fields @message")) == 7


def test_dedup_keeps_the_first_of_each_value() -> None:
    rows = run("filter ispresent(taskId) | dedup taskId | fields taskId")
    assert [row["taskId"] for row in rows] == ["task3", "task1", "task12"]


# -- stats ------------------------------------------------------------------------------------


def test_stats_aggregates_by_fields() -> None:
    rows = run(
        "filter ispresent(taskId) | stats count(*) as n, sum(attempt), avg(attempt),"
        " min(attempt), max(attempt), count_distinct(level), pct(attempt, 50) by taskId"
        " | sort taskId asc"
    )
    assert rows == [
        {
            "taskId": "task1",
            "n": "2",
            "sum(attempt)": "3",
            "avg(attempt)": "1.5",
            "min(attempt)": "1",
            "max(attempt)": "2",
            "count_distinct(level)": "2",
            "pct(attempt, 50)": "1",
        },
        {
            "taskId": "task3",
            "n": "1",
            "sum(attempt)": "3",
            "avg(attempt)": "3",
            "min(attempt)": "3",
            "max(attempt)": "3",
            "count_distinct(level)": "1",
            "pct(attempt, 50)": "3",
        },
        {
            "taskId": "task12",
            "n": "1",
            "sum(attempt)": "1",
            "avg(attempt)": "1",
            "min(attempt)": "1",
            "max(attempt)": "1",
            "count_distinct(level)": "1",
            "pct(attempt, 50)": "1",
        },
    ]


def test_stats_count_by_log_and_by_bin() -> None:
    by_log = run("stats count(*) by @log | sort @log asc")
    assert by_log == [
        {"@log": f"{ACCOUNT}:/aws/lambda/other", "count(*)": "1"},
        {"@log": f"{ACCOUNT}:{GROUP}", "count(*)": "6"},
    ]
    by_bin = run("stats count(taskId) as tasks by bin(2m) | sort tasks desc")
    assert by_bin[0] == {"bin(2m)": "2024-05-01 12:02:00.000", "tasks": "2"}
    assert sum(int(row["tasks"]) for row in by_bin) == 4


def test_stats_earliest_latest_and_sort_extremes() -> None:
    [row] = run(
        "filter ispresent(taskId) | stats earliest(taskId) as first, latest(taskId) as last,"
        " sortsFirst(taskId) as low, sortsLast(taskId) as high"
    )
    assert row == {"first": "task1", "last": "task3", "low": "task1", "high": "task12"}


def test_stats_over_nothing_counts_zero() -> None:
    assert run('filter taskId = "none" | stats count(*)') == [{"count(*)": "0"}]


# -- refused ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("fields @message | frobnicate @message", "'frobnicate' at line 1 and position 19"),
        ("filter", "filter command"),
        ("filter @message like", "filter command"),
        ("fields @message\n| filter a ==", "line 2 and position 13 in the filter command"),
        ("stats median(x)", "stats function 'median'"),
        ("fields mystery(x) as y", "function 'mystery'"),
        ("limit 10001", "limit command"),
        ("limit 0", "limit command"),
        ('parse @message "* *" as one', "parse command"),
        ("parse @message /no groups/", "parse command"),
        ("filter @message like /(/", "filter command"),
        ("stats count(*) by bin(1mo)", "stats command"),
        ("stats avg(*)", "stats command"),
        ("filter count(*) > 1", "filter command"),
        ("fields a |", "a command is missing"),
        ("   ", "empty"),
    ],
)
def test_malformed_or_unsupported_queries_are_refused(query: str, names: str) -> None:
    # When a malformed or unsupported query is parsed
    with pytest.raises(MalformedQuery) as refused:
        parse_query(query)
    # Then the error names the command (or symbol) and where it is
    assert names in refused.value.message
    assert 0 <= refused.value.start <= refused.value.end <= max(len(query), 1) + 20


def test_a_stopped_query_ends_cancelled_not_partial() -> None:
    # Given a query asked to stop (StopQuery sets the flag the executor checks)
    from ftb.localcloud.logs_insights.executor import Cancelled

    # When it runs
    # Then it raises Cancelled rather than returning the rows it had so far
    with pytest.raises(Cancelled):
        execute(parse_query("fields @message"), workload(), should_stop=lambda: True)


TRICKY = [
    json.dumps({"level": "WARNING", "taskId": "t-1", "attempt": 2}),
    json.dumps({"level": "WARN\u00cfNG", "taskId": "t\u00e9"}),  # escaped in the raw JSON
    '{"level": "\\u0057ARNING", "taskId": "t-2"}',  # an escape the writer chose
    '{"level": "ERROR", "attempt": 1e3, "flag": true, "taskId": "t-3"}',
    "plain WARNING line",
    "REPORT RequestId: r-9\tDuration: 1.00 ms",
]


@pytest.mark.parametrize(
    "query",
    [
        'filter level = "WARNING"',
        'filter level = "WARNING" or level = "ERROR"',
        "filter level in ['WARNING', 'ERROR'] and ispresent(taskId)",
        'filter taskId like "t-"',
        'filter @message like "WARNING"',
        'filter attempt = "1000"',
        'filter flag = "True"',
        'filter taskId = "t\u00e9"',
        "parse @message 'plain * line' as level | filter level = 'WARNING'",
        "fields 'WARNING' as level | filter level = 'WARNING'",
        'filter @type = "REPORT"',
        'filter level != "WARNING" and taskId = "t-3"',
    ],
)
def test_the_raw_message_prefilter_never_changes_rows(
    query: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given events with escapes, numbers and booleans the raw text spells differently
    def events() -> list[EventRecord]:
        return [event(n, message, index=n) for n, message in enumerate(TRICKY)]

    # When the query runs with the prefilter, then without it
    with_prefilter = execute(parse_query(query), events()).rows
    monkeypatch.setattr("ftb.localcloud.logs_insights.executor.needles", lambda *_: None)
    without = execute(parse_query(query), events()).rows
    # Then the rows are the same
    assert with_prefilter == without
