"""What feeds the local CloudWatch and what it shows: the functions' embedded-metric-format
lines, Lambda's own metrics of an invocation, the terminal line of a transition and the
live view's alarm row."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from ftb.localcloud.cloudwatch.collectors import ApiMetrics, LambdaMetrics
from ftb.localcloud.cloudwatch.emf import metrics_in
from ftb.localcloud.cloudwatch.store import MetricKey, MetricStore
from ftb.localcloud.function_log import FunctionLog
from ftb.localcloud.live_view import Snapshot, alarm_summary, render
from ftb.localcloud.terminal import Mode, Terminal

# What Powertools Metrics prints for the monitor's DeadLetteredTasks (one line).
POWERTOOLS_LINE = json.dumps(
    {
        "_aws": {
            "Timestamp": 1_764_792_000_000,
            "CloudWatchMetrics": [
                {
                    "Namespace": "FaultTolerantBackend",
                    "Dimensions": [["service"]],
                    "Metrics": [{"Name": "DeadLetteredTasks", "Unit": "Count"}],
                }
            ],
        },
        "service": "monitor-dlq",
        "DeadLetteredTasks": [1.0, 1.0],
        "taskId": "t-1",
    }
)


def test_an_emf_line_yields_one_datapoint_per_value_with_its_dimensions() -> None:
    # Given the line Powertools prints / When read
    found = metrics_in(POWERTOOLS_LINE)
    # Then two datapoints of the metric, dimension `service`, unit Count, at _aws.Timestamp
    key = MetricKey.of("FaultTolerantBackend", "DeadLetteredTasks", {"service": "monitor-dlq"})
    assert [k for k, _ in found] == [key, key]
    assert {(s.timestamp, s.total, s.unit) for _, s in found} == {(1_764_792_000.0, 1.0, "Count")}


def test_lines_that_are_not_emf_yield_nothing() -> None:
    for line in (
        "START RequestId: r1 Version: $LATEST",
        '{"_aws": "not an object"}',
        '{"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "N", '
        '"Dimensions": [["missing"]], "Metrics": [{"Name": "M"}]}]}, "M": 1}',
        '{"_aws": {"CloudWatchMetrics": []}}',
        "{not json",
    ):
        assert metrics_in(line) == []


def test_an_invocation_publishes_lambdas_metrics() -> None:
    # Given the runtime's hook
    store = MetricStore()
    metrics = LambdaMetrics(store)
    # When one invocation succeeds, one fails and one is throttled
    metrics.invoked("f", 12.5, error=False)
    metrics.invoked("f", 30.0, error=True)
    metrics.throttled("f")
    # Then Invocations 2, Errors 1 (and a 0), Duration in ms, Throttles 1, by FunctionName
    dims = {"FunctionName": "f"}

    def values(name: str) -> list[float]:
        samples = store.samples(MetricKey.of("AWS/Lambda", name, dims), 0, 2**40)
        return [s.total for s in samples]

    assert values("Invocations") == [1.0, 1.0]
    assert values("Errors") == [0.0, 1.0]
    assert values("Duration") == [12.5, 30.0]
    assert values("Throttles") == [1.0]


def test_an_api_request_publishes_api_gateways_metrics() -> None:
    # Given the API Gateway's hook
    store = MetricStore()
    metrics = ApiMetrics(store)
    # When a stage answers 202, 503 and 403
    for status, millis in ((202, 40.0), (503, 12.0), (403, 3.0)):
        metrics.request("Stack-api", "v1", status, millis)
    # Then Count, 4XXError / 5XXError as 0 or 1 per request (their Average: the share) and
    # Latency, by ApiName and by ApiName + Stage (what ApiServerErrorRate reads)
    for dims in ({"ApiName": "Stack-api"}, {"ApiName": "Stack-api", "Stage": "v1"}):

        def values(name: str, dims: dict[str, str] = dims) -> list[float]:
            samples = store.samples(MetricKey.of("AWS/ApiGateway", name, dims), 0, 2**40)
            return [s.total for s in samples]

        assert values("Count") == [1.0, 1.0, 1.0]
        assert values("5XXError") == [0.0, 1.0, 0.0]
        assert values("4XXError") == [0.0, 0.0, 1.0]
        assert values("Latency") == [40.0, 12.0, 3.0]


def test_a_transition_is_one_line_in_every_mode(tmp_path: Path) -> None:
    for mode in (Mode.LIVE, Mode.QUIET):
        buffer = io.StringIO()
        console = Console(file=buffer, width=200, color_system=None, force_terminal=False)
        terminal = Terminal(mode, FunctionLog(tmp_path / f"{mode}.log"), console)
        terminal.alarm_line("Stack-DeadLetteredTasks: OK -> ALARM (Threshold Crossed: ...)")
        assert buffer.getvalue() == (
            "alarm: Stack-DeadLetteredTasks: OK -> ALARM (Threshold Crossed: ...)\n"
        )


def test_the_live_view_shows_the_alarms_states() -> None:
    # Given alarms in each state
    alarms = {"DeadLetteredTasks": "ALARM", "ExecutionsFailed": "OK", "New": "INSUFFICIENT_DATA"}
    # When the view renders / Then one row counts them and names those in ALARM
    assert alarm_summary(alarms) == (
        "[green]1 OK[/] · [red]1 ALARM (DeadLetteredTasks)[/] · 1 INSUFFICIENT_DATA"
    )
    buffer = io.StringIO()
    Console(file=buffer, width=200, color_system=None).print(
        render("Stack", Snapshot(alarms=alarms))
    )
    assert "Alarms" in buffer.getvalue() and "1 ALARM (DeadLetteredTasks)" in buffer.getvalue()
