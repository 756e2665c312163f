"""Metric math as the stack's alarms and GetMetricData use it (AWS's "Using math expressions
with CloudWatch metrics" syntax and functions), and the statistics of the store."""

from __future__ import annotations

import math
import time

import pytest

from ftb.localcloud.cloudwatch import metric_math
from ftb.localcloud.cloudwatch.alarms import MetricAlarm, evaluate_queries, parse_queries
from ftb.localcloud.cloudwatch.errors import CloudWatchError
from ftb.localcloud.cloudwatch.store import MetricKey, MetricStore, Sample, statistic

GRID = [0.0, 60.0, 120.0]


def run(expression: str, **values: metric_math.Value) -> metric_math.Value:
    context = metric_math.Context(dict(values), GRID, {k: 60.0 for k in values})
    return metric_math.evaluate(metric_math.parse(expression), context)


def test_the_stacks_error_rate_expression() -> None:
    # Given process-task's errors and invocations per period (no invocation in the last one)
    errors = {0.0: 3.0, 60.0: 0.0, 120.0: 0.0}
    invocations = {0.0: 4.0, 60.0: 10.0, 120.0: 0.0}
    # When the alarm's expression is evaluated
    rate = run(
        "IF(invocations > 0, 100 * errors / invocations, 0)",
        errors=errors,
        invocations=invocations,
    )
    # Then it is the percentage, and 0 where nothing ran (not a division by zero)
    assert rate == {0.0: 75.0, 60.0: 0.0, 120.0: 0.0}


def test_arithmetic_keeps_the_timestamps_both_series_have() -> None:
    # Given two series with one timestamp in common
    # When added / Then only the common timestamp has a value
    assert run("a + b", a={0.0: 1.0, 60.0: 2.0}, b={60.0: 5.0}) == {60.0: 7.0}


def test_division_by_zero_is_a_missing_point() -> None:
    assert run("a / b", a={0.0: 1.0, 60.0: 2.0}, b={0.0: 0.0, 60.0: 4.0}) == {60.0: 0.5}


def test_fill_with_a_value_repeat_and_linear() -> None:
    # Given a series with a gap in the middle of the grid
    sparse = {0.0: 2.0, 120.0: 4.0}
    # When filled / Then as documented
    assert run("FILL(m, 0)", m=sparse) == {0.0: 2.0, 60.0: 0.0, 120.0: 4.0}
    assert run("FILL(m, REPEAT)", m=sparse) == {0.0: 2.0, 60.0: 2.0, 120.0: 4.0}
    assert run("FILL(m, LINEAR)", m=sparse) == {0.0: 2.0, 60.0: 3.0, 120.0: 4.0}


def test_sum_of_an_array_is_a_series_and_of_a_series_a_number() -> None:
    a, b = {0.0: 1.0, 60.0: 2.0}, {0.0: 10.0}
    assert run("SUM([a, b])", a=a, b=b) == {0.0: 11.0, 60.0: 2.0}
    assert run("SUM(a)", a=a) == 3.0
    assert run("MAX([a, b])", a=a, b=b) == {0.0: 10.0, 60.0: 2.0}


def test_precedence_unary_minus_and_logic() -> None:
    assert run("2 + 3 * 4 ^ 2") == 50.0
    assert run("-(1 + 1) * 3") == -6.0
    assert run("1 > 0 AND 0 > 1 OR 1 == 1") == 1.0
    assert run("PERIOD(m)", m={0.0: 1.0}) == 60.0


@pytest.mark.parametrize(
    "expression", ["SEARCH('{AWS/Lambda}', 'Sum', 300)", "ANOMALY_DETECTION_BAND(m)", "m +", ""]
)
def test_what_is_not_evaluated_locally_is_refused(expression: str) -> None:
    # Given an expression the local cloud does not evaluate (or a malformed one)
    # When parsed / Then it is refused, never guessed
    with pytest.raises(metric_math.ExpressionError):
        metric_math.parse(expression)


def test_statistics_and_percentiles() -> None:
    samples = [Sample.value(0.0, float(v)) for v in range(1, 101)]
    assert statistic(samples, "Sum") == 5050.0
    assert statistic(samples, "Average") == 50.5
    assert statistic(samples, "SampleCount") == 100.0
    assert (statistic(samples, "Minimum"), statistic(samples, "Maximum")) == (1.0, 100.0)
    assert statistic(samples, "p90") == 90.0
    assert statistic(samples, "p99.5") == 100.0
    assert statistic([], "Sum") is None


def test_an_alarm_with_metric_math_reads_its_metrics_from_the_store() -> None:
    # Given the stack's error-rate alarm (Metrics with an expression) and its datapoints
    store = MetricStore()
    dims = {"FunctionName": "process-task"}
    now = float(math.floor(time.time() / 3) * 3)  # a scaled period's start, within retention
    for error in (1.0, 1.0, 0.0, 1.0):
        store.put(MetricKey.of("AWS/Lambda", "Errors", dims), Sample.value(now + 1, error))
        store.put(MetricKey.of("AWS/Lambda", "Invocations", dims), Sample.value(now + 1, 1.0))
    stat = {"FunctionName": "process-task"}
    metrics = [
        {"Id": "rate", "Expression": "IF(inv > 0, 100 * err / inv, 0)", "ReturnData": True},
        *[
            {
                "Id": query_id,
                "ReturnData": False,
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Lambda",
                        "MetricName": name,
                        "Dimensions": [{"Name": k, "Value": v} for k, v in stat.items()],
                    },
                    "Period": 300,
                    "Stat": "Sum",
                },
            }
            for query_id, name in (("err", "Errors"), ("inv", "Invocations"))
        ],
    ]
    alarm = MetricAlarm.from_params(
        {
            "AlarmName": "rate",
            "Metrics": metrics,
            "EvaluationPeriods": 1,
            "Threshold": 50,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        },
        "us-east-1",
        "123456789012",
    )
    # When its evaluation range is gathered (period 300 s scaled by 0.01: 3 s)
    points = alarm.datapoints(store, now + 2, 0.01)
    # Then the newest period holds the rate, the earlier ones nothing
    assert points[-1] == (now, 75.0)
    assert all(value is None for _, value in points[:-1])
    # And a GetMetricData-style evaluation gives the same
    queries = parse_queries(metrics, alarm=False)
    series = evaluate_queries(queries, store, [now], now, now + 3, 0.01)
    assert series["rate"] == {now: 75.0}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"Period": 45}, "InvalidParameterValue"),
        ({"DatapointsToAlarm": 5}, "InvalidParameterValue"),
        ({"TreatMissingData": "sometimes"}, "InvalidParameterValue"),
        ({"Statistic": None}, "InvalidParameterCombination"),
        ({"ExtendedStatistic": "p90"}, "InvalidParameterCombination"),
        (
            {"ComparisonOperator": "LessThanLowerOrGreaterThanUpperThreshold"},
            "InvalidParameterValue",
        ),
        ({"Threshold": None}, "MissingParameter"),
    ],
)
def test_put_metric_alarm_validates_as_cloudwatch(change: dict[str, object], code: str) -> None:
    params: dict[str, object] = {
        "AlarmName": "a",
        "Namespace": "N",
        "MetricName": "M",
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 1,
        "ComparisonOperator": "GreaterThanThreshold",
    }
    params.update(change)
    params = {k: v for k, v in params.items() if v is not None}
    with pytest.raises(CloudWatchError) as raised:
        MetricAlarm.from_params(params, "us-east-1", "123456789012")
    assert raised.value.code == code


def test_nan_never_reaches_a_series() -> None:
    # Given 0 / 0 / When evaluated / Then the point is missing, not NaN
    assert run("a / b", a={0.0: 0.0, 60.0: 1.0}, b={0.0: 0.0, 60.0: 1.0}) == {60.0: 1.0}
