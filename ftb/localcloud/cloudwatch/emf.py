"""CloudWatch embedded metric format: the metrics in a function's log line.

AWS extracts them from log events shipped to CloudWatch Logs
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
a JSON object with `_aws.Timestamp` (epoch ms) and `_aws.CloudWatchMetrics`, a list of
directives {Namespace, Dimensions: [[name, ...], ...], Metrics: [{Name, Unit?}]}; each
dimension's value and each metric's value (a number or up to 100 numbers) are top-level
members. One datapoint per dimension set. A line that is not valid EMF yields nothing, as
CloudWatch then keeps it as a plain log event.
"""

from __future__ import annotations

import json
import math
from typing import Any

from ftb.localcloud.cloudwatch.store import MetricKey, Sample

MAX_VALUES = 100


def metrics_in(line: str) -> list[tuple[MetricKey, Sample]]:
    if '"_aws"' not in line:  # cheap: nearly every line is not EMF
        return []
    try:
        document = json.loads(line.strip())
    except ValueError:
        return []
    if not isinstance(document, dict):
        return []
    return _extract(document)


def _extract(document: dict[str, Any]) -> list[tuple[MetricKey, Sample]]:
    meta = document.get("_aws")
    if not isinstance(meta, dict):
        return []
    stamp = meta.get("Timestamp")
    directives = meta.get("CloudWatchMetrics")
    if not isinstance(stamp, (int, float)) or not isinstance(directives, list):
        return []
    timestamp = float(stamp) / 1000
    found: list[tuple[MetricKey, Sample]] = []
    for directive in directives:
        if not isinstance(directive, dict) or not isinstance(directive.get("Namespace"), str):
            continue
        sets = directive.get("Dimensions") or [[]]
        metrics = directive.get("Metrics")
        if not isinstance(sets, list) or not isinstance(metrics, list):
            continue
        for names in sets:
            if not isinstance(names, list) or not all(
                isinstance(n, str) and isinstance(document.get(n), str) for n in names
            ):
                continue  # a dimension without a string value: the set is invalid
            dimensions = {name: document[name] for name in names}
            for metric in metrics:
                if not isinstance(metric, dict) or not isinstance(metric.get("Name"), str):
                    continue
                unit = str(metric.get("Unit") or "None")
                key = MetricKey.of(directive["Namespace"], metric["Name"], dimensions)
                for value in _values(document.get(metric["Name"])):
                    found.append((key, Sample.value(timestamp, value, unit)))
    return found


def _values(raw: Any) -> list[float]:
    items = raw if isinstance(raw, list) else [raw]
    values = [
        float(v)
        for v in items[:MAX_VALUES]
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    ]
    return values
