"""The local CloudWatch's cost: what collecting Lambda's metrics adds to an invocation, and
how long one evaluation of the stack-like alarms takes over a busy evaluation range.

`measure(quick)` records `invocations` invocations' metrics (Invocations, Errors, Duration)
for five functions into a fresh store, then times `evaluate_all` over ten alarms: one Sum
alarm and one metric-math error-rate alarm (as process-task's) per function. In process,
no cloud. Run: `python -m bench.alarms [INVOCATIONS]`.
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import Any

from ftb.localcloud.cloudwatch import LocalCloudWatch

FUNCTIONS = 5
EVALUATIONS = 20


def _metric(query_id: str, name: str, function: str) -> dict[str, Any]:
    return {
        "Id": query_id,
        "ReturnData": False,
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/Lambda",
                "MetricName": name,
                "Dimensions": [{"Name": "FunctionName", "Value": function}],
            },
            "Period": 300,
            "Stat": "Sum",
        },
    }


def _alarms(cloudwatch: LocalCloudWatch) -> None:
    for n in range(FUNCTIONS):
        function = f"fn{n}"
        common = {"EvaluationPeriods": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold"}
        cloudwatch.alarms.put(
            {
                "AlarmName": f"errors-{n}",
                "Namespace": "AWS/Lambda",
                "MetricName": "Errors",
                "Dimensions": [{"Name": "FunctionName", "Value": function}],
                "Statistic": "Sum",
                "Period": 300,
                "Threshold": 1,
                "TreatMissingData": "notBreaching",
                **common,
            }
        )
        cloudwatch.alarms.put(
            {
                "AlarmName": f"rate-{n}",
                "Metrics": [
                    {"Id": "rate", "Expression": "IF(inv > 0, 100 * err / inv, 0)"},
                    _metric("err", "Errors", function),
                    _metric("inv", "Invocations", function),
                ],
                "Threshold": 50,
                **common,
            }
        )


def measure(quick: bool = False, invocations: int | None = None) -> dict[str, Any]:
    count = invocations or (20_000 if quick else 100_000)
    cloudwatch = LocalCloudWatch("us-east-1", "123456789012", scale=1.0)
    collect = cloudwatch.lambda_metrics
    started = time.perf_counter()
    for i in range(count):
        collect.invoked(f"fn{i % FUNCTIONS}", 12.0, i % 3 == 0)
    per_invocation_us = (time.perf_counter() - started) / count * 1e6
    _alarms(cloudwatch)
    timings = []
    for _ in range(EVALUATIONS):
        began = time.perf_counter()
        cloudwatch.alarms.evaluate_all()
        timings.append((time.perf_counter() - began) * 1000)
    return {
        "invocations": count,
        "alarms": len(cloudwatch.alarms.all()),
        "collect_us_per_invocation": round(per_invocation_us, 2),
        "evaluate_all_ms_median": round(statistics.median(timings), 2),
        "evaluate_all_ms_max": round(max(timings), 2),
    }


if __name__ == "__main__":
    print(measure(invocations=int(sys.argv[1]) if len(sys.argv) > 1 else None))
