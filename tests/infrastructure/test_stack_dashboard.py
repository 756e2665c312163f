"""The CloudWatch dashboard: the console overview's figures, and its URL as an output."""

from __future__ import annotations

import json
from typing import Any

from infra import names


def _body(stack) -> dict[str, Any]:
    """The dashboard body, with CloudFormation's tokens rendered as `{Ref}` markers."""
    _, props = stack.only("AWS::CloudWatch::Dashboard")
    parts = props["DashboardBody"]["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else "__TOKEN__" for p in parts)
    return dict(json.loads(text))


def _widgets(stack, kind: str) -> list[dict[str, Any]]:
    return [w for w in _body(stack)["widgets"] if w["type"] == kind]


def _metrics(widget: dict[str, Any]) -> list[list[Any]]:
    return list(widget["properties"].get("metrics", []))


def test_dashboard_is_named_after_the_stack(stack):
    _, props = stack.only("AWS::CloudWatch::Dashboard")
    assert props["DashboardName"] == names.dashboard_name(stack.stack_name)


def test_tasks_by_outcome_shows_every_execution_outcome(stack):
    [outcomes] = [
        w
        for w in _widgets(stack, "metric")
        if w["properties"]["title"].startswith("Tasks by outcome")
    ]
    shown = {m[1] for m in _metrics(outcomes) if m[0] == "AWS/States"}
    assert shown == {
        "ExecutionsStarted",
        "ExecutionsSucceeded",
        "ExecutionsFailed",
        "ExecutionsTimedOut",
        "ExecutionsAborted",
    }


def test_throughput_shows_requests_and_finished_tasks(stack):
    [throughput] = [
        w for w in _widgets(stack, "metric") if w["properties"]["title"] == "Throughput"
    ]
    rows = _metrics(throughput)
    assert any(m[:2] == ["AWS/ApiGateway", "Count"] for m in rows)
    assert any(
        isinstance(m[0], dict) and "succeeded + failed" in m[0].get("expression", "") for m in rows
    )


def test_dead_letter_count_is_the_monitors_metric_over_the_time_range(stack):
    [single] = [
        w for w in _widgets(stack, "metric") if w["properties"].get("view") == "singleValue"
    ]
    assert single["properties"]["setPeriodToTimeRange"] is True
    [metric] = _metrics(single)
    assert metric[:2] == [names.METRICS_NAMESPACE, names.DEAD_LETTERED_TASKS_METRIC]
    assert metric[2:4] == ["service", names.MONITOR_DLQ.service]


def test_alarm_status_widget_lists_every_alarm_of_the_stack(stack):
    [widget] = _widgets(stack, "alarm")
    assert len(widget["properties"]["alarms"]) == len(stack.of_type("AWS::CloudWatch::Alarm"))


def test_queue_widgets_show_depth_and_age_of_both_queues(stack):
    by_title = {w["properties"]["title"]: w for w in _widgets(stack, "metric")}
    depth = _metrics(by_title["Queue depth (messages visible)"])
    age = _metrics(by_title["Age of the oldest message (seconds)"])
    assert [m[:2] for m in depth] == [["AWS/SQS", "ApproximateNumberOfMessagesVisible"]] * 2
    assert [m[:2] for m in age] == [["AWS/SQS", "ApproximateAgeOfOldestMessage"]] * 2


def test_dashboard_url_is_an_output(stack):
    output = stack.template["Outputs"][names.OUT_DASHBOARD_URL]
    rendered = json.dumps(output["Value"])
    assert "cloudwatch/home?region=" in rendered
    assert "#dashboards/dashboard/" in rendered
