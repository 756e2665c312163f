"""The `monitoring` service handler: CloudWatch's metric and alarm API on the local endpoint.

Answers, in the JSON 1.0 protocol botocore picks for CloudWatch (awsQueryCompatible errors:
`__type` plus `x-amzn-query-error: Code;Sender`): PutMetricData, GetMetricData, ListMetrics,
PutMetricAlarm, DeleteAlarms, DescribeAlarms, DescribeAlarmHistory and SetAlarmState, over
the local store and alarms (moto's CloudWatch is never consulted: it neither collects nor
evaluates, and two stores would disagree). Every other CloudWatch operation is refused by the
endpoint's refusals (UnknownOperationException); the query and CBOR protocols are refused
here with the protocol's error shape where it can be written.
"""

from __future__ import annotations

import base64
import json
import math
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from werkzeug.wrappers import Response

from ftb.localcloud.cloudwatch import metric_math
from ftb.localcloud.cloudwatch.alarms import STATES, Alarms, evaluate_queries, parse_queries
from ftb.localcloud.cloudwatch.errors import SHAPES, CloudWatchError
from ftb.localcloud.cloudwatch.store import MetricKey, MetricStore, Sample
from ftb.localcloud.endpoint.calls import AwsCall, query_error, request_id

PAST_LIMIT_SECONDS = 14 * 86400  # PutMetricData: at most two weeks old...
FUTURE_LIMIT_SECONDS = 2 * 3600  # ...and two hours ahead
HISTORY_TYPES = (
    "ConfigurationUpdate",
    "StateUpdate",
    "Action",
    "AlarmContributorStateUpdate",
    "AlarmContributorAction",
)


def _answer(document: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(document, separators=(",", ":")),
        status=status,
        headers={"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": request_id()},
    )


def _error(error: CloudWatchError) -> Response:
    shape, status = SHAPES.get(error.code, (error.code, 400))
    response = _answer({"__type": shape, "message": error.message}, status)
    response.headers["x-amzn-query-error"] = f"{error.code};Sender"
    return response


def _epoch(value: Any, name: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    raise CloudWatchError("InvalidParameterValue", f"{name}: not a timestamp ({value!r})")


def _max_records(request: dict[str, Any], default: int, most: int) -> int:
    value = request.get("MaxRecords", default)
    if not isinstance(value, int) or not 1 <= value <= most:
        raise CloudWatchError("InvalidParameterValue", f"MaxRecords must be from 1 to {most}")
    return value


def _page(items: list[Any], request: dict[str, Any], size: int) -> tuple[list[Any], str | None]:
    token = request.get("NextToken")
    offset = 0
    if token is not None:
        try:
            offset = int(base64.urlsafe_b64decode(str(token).encode()).decode())
        except ValueError:
            raise CloudWatchError("InvalidNextToken", "The NextToken is not valid") from None
        if offset < 0 or offset > len(items):
            raise CloudWatchError("InvalidNextToken", "The NextToken is not valid")
    end = offset + size
    following = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
    return items[offset:end], following


class CloudWatchApi:
    """The handler; `store` and `alarms` are the local CloudWatch's (service.py)."""

    operations = frozenset(
        {
            "PutMetricData",
            "GetMetricData",
            "ListMetrics",
            "PutMetricAlarm",
            "DeleteAlarms",
            "DescribeAlarms",
            "DescribeAlarmHistory",
            "SetAlarmState",
        }
    )

    def __init__(self, store: MetricStore, alarms: Alarms) -> None:
        self.store = store
        self.alarms = alarms
        self._operations: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "PutMetricData": self.put_metric_data,
            "GetMetricData": self.get_metric_data,
            "ListMetrics": self.list_metrics,
            "PutMetricAlarm": self.put_metric_alarm,
            "DeleteAlarms": self.delete_alarms,
            "DescribeAlarms": self.describe_alarms,
            "DescribeAlarmHistory": self.describe_alarm_history,
            "SetAlarmState": self.set_alarm_state,
        }
        assert set(self._operations) == self.operations

    def handle(self, call: AwsCall) -> Response | None:
        if call.protocol == "query":
            if call.operation in self._operations:
                return query_error(
                    "InvalidAction",
                    f"{call.operation}: the local endpoint answers CloudWatch in the JSON "
                    "protocol (botocore's and the AWS CLI's), not the query protocol",
                )
            return None
        if call.protocol == "rest":  # smithy-rpc-v2-cbor: /service/<target>/operation/<op>
            return _error(
                CloudWatchError(
                    "InvalidAction",
                    "the local endpoint answers CloudWatch in the JSON protocol, not CBOR",
                )
            )
        answer = self._operations.get(call.operation or "")
        if answer is None:
            return None
        try:
            request = call.json()
        except ValueError:
            return _error(CloudWatchError("SerializationException", "The body is not JSON"))
        if not isinstance(request, dict):
            return _error(CloudWatchError("SerializationException", "The body is not an object"))
        try:
            return _answer(answer(request))
        except CloudWatchError as error:
            return _error(error)
        except (TypeError, ValueError) as error:  # a member of the wrong type
            return _error(CloudWatchError("InvalidParameterValue", str(error)))

    # -- metrics ------------------------------------------------------------------------------

    def put_metric_data(self, request: dict[str, Any]) -> dict[str, Any]:
        namespace = request.get("Namespace")
        if not namespace:
            raise CloudWatchError("MissingParameter", "The parameter Namespace is required.")
        if str(namespace).startswith("AWS/"):
            raise CloudWatchError(
                "InvalidParameterValue",
                f"The value {namespace} for parameter Namespace is invalid.",
            )
        data = request.get("MetricData")
        if not isinstance(data, list) or not 1 <= len(data) <= 1000:
            raise CloudWatchError("InvalidParameterValue", "MetricData: 1 to 1000 entries")
        now = time.time()
        accepted: list[tuple[MetricKey, Sample]] = []
        for datum in data:  # all validated before any is stored: nothing half-accepted
            accepted.extend(self._datum(str(namespace), datum, now))
        for key, sample in accepted:
            self.store.put(key, sample)
        return {}

    def _datum(self, namespace: str, datum: Any, now: float) -> list[tuple[MetricKey, Sample]]:
        if not isinstance(datum, dict) or not datum.get("MetricName"):
            raise CloudWatchError("MissingParameter", "The parameter MetricName is required.")
        dims = {}
        for item in datum.get("Dimensions") or []:
            if not isinstance(item, dict) or not item.get("Name") or "Value" not in item:
                raise CloudWatchError("MissingParameter", "A dimension needs a Name and Value.")
            dims[str(item["Name"])] = str(item["Value"])
        key = MetricKey.of(namespace, str(datum["MetricName"]), dims)
        stamp = _epoch(datum["Timestamp"], "Timestamp") if "Timestamp" in datum else now
        if not now - PAST_LIMIT_SECONDS <= stamp <= now + FUTURE_LIMIT_SECONDS:
            raise CloudWatchError(
                "InvalidParameterValue",
                "The parameter MetricData.member.Timestamp must specify a time no more than "
                "two weeks in the past and two hours in the future.",
            )
        unit = str(datum.get("Unit") or "None")
        kinds = [k for k in ("Value", "StatisticValues", "Values") if k in datum]
        if len(kinds) != 1:
            raise CloudWatchError(
                "InvalidParameterCombination",
                "Exactly one of Value, StatisticValues and Values is required.",
            )
        if kinds[0] == "Value":
            return [(key, Sample.value(stamp, _finite(datum["Value"]), unit))]
        if kinds[0] == "StatisticValues":
            s = datum["StatisticValues"]
            count = _finite(s["SampleCount"])
            return [
                (
                    key,
                    Sample(
                        stamp,
                        _finite(s["Sum"]),
                        count,
                        _finite(s["Minimum"]),
                        _finite(s["Maximum"]),
                        unit,
                        None,
                    ),
                )
            ]
        values = [_finite(v) for v in datum["Values"]]
        counts = [_finite(c) for c in datum.get("Counts") or [1.0] * len(values)]
        if len(counts) != len(values):
            raise CloudWatchError("InvalidParameterValue", "Values and Counts differ in length")
        samples = []
        for value, count in zip(values, counts, strict=True):
            raw = (value,) * int(count)
            samples.append((key, Sample(stamp, value * count, count, value, value, unit, raw)))
        return samples

    def get_metric_data(self, request: dict[str, Any]) -> dict[str, Any]:
        raw = request.get("MetricDataQueries")
        if not isinstance(raw, list) or not 1 <= len(raw) <= 500:
            raise CloudWatchError("InvalidParameterValue", "MetricDataQueries: 1 to 500 queries")
        for name in ("StartTime", "EndTime"):
            if name not in request:
                raise CloudWatchError("MissingParameter", f"The parameter {name} is required.")
        start = _epoch(request["StartTime"], "StartTime")
        end = _epoch(request["EndTime"], "EndTime")
        if start >= end:
            raise CloudWatchError(
                "InvalidParameterValue", "The parameter StartTime must be less than EndTime."
            )
        try:
            queries = parse_queries(raw, alarm=False)
        except CloudWatchError:
            raise
        period = next(
            (int(q.document["Period"]) for q in queries if q.expression and "Period" in q.document),
            next((q.stat.period for q in queries if q.stat), 60),
        )
        first = float(math.floor(start / period) * period)
        grid = [first + period * i for i in range(int((end - first) // period) + 1)]
        grid = [t for t in grid if t < end]
        try:
            series = evaluate_queries(queries, self.store, grid, first, end)
        except metric_math.ExpressionError as error:
            raise CloudWatchError("ValidationError", str(error)) from None
        descending = request.get("ScanBy", "TimestampDescending") != "TimestampAscending"
        results = []
        for query in queries:
            if not query.return_data:
                continue
            points = sorted(
                ((t, v) for t, v in series[query.id].items() if start <= t + period and t < end),
                reverse=descending,
            )
            label = query.label or (query.stat.key.name if query.stat else query.id)
            results.append(
                {
                    "Id": query.id,
                    "Label": label,
                    "Timestamps": [t for t, _ in points],
                    "Values": [v for _, v in points],
                    "StatusCode": "Complete",
                }
            )
        return {"MetricDataResults": results, "Messages": []}

    def list_metrics(self, request: dict[str, Any]) -> dict[str, Any]:
        recent = request.get("RecentlyActive")
        if recent not in (None, "PT3H"):
            raise CloudWatchError("InvalidParameterValue", "RecentlyActive must be PT3H")
        wanted = []
        for item in request.get("Dimensions") or []:
            if not isinstance(item, dict) or not item.get("Name"):
                raise CloudWatchError("MissingParameter", "A dimension filter needs a Name.")
            wanted.append((str(item["Name"]), item.get("Value")))
        found = []
        for key in self.store.metrics(3 * 3600 if recent else None):
            if request.get("Namespace") and key.namespace != request["Namespace"]:
                continue
            if request.get("MetricName") and key.name != request["MetricName"]:
                continue
            dims = dict(key.dimensions)
            if any(n not in dims or (v is not None and dims[n] != v) for n, v in wanted):
                continue
            found.append(key.document())
        page, following = _page(found, request, 500)
        answer: dict[str, Any] = {"Metrics": page}
        if following:
            answer["NextToken"] = following
        return answer

    # -- alarms ---------------------------------------------------------------------------------

    def put_metric_alarm(self, request: dict[str, Any]) -> dict[str, Any]:
        for key in ("AlarmActions", "OKActions", "InsufficientDataActions"):
            if len(request.get(key) or []) > 5:
                raise CloudWatchError("LimitExceeded", f"{key}: at most 5 actions")
        self.alarms.put(request)
        return {}

    def delete_alarms(self, request: dict[str, Any]) -> dict[str, Any]:
        names = request.get("AlarmNames")
        if not isinstance(names, list) or not names:
            raise CloudWatchError("MissingParameter", "The parameter AlarmNames is required.")
        self.alarms.delete([str(n) for n in names])
        return {}

    def describe_alarms(self, request: dict[str, Any]) -> dict[str, Any]:
        names, prefix = request.get("AlarmNames"), request.get("AlarmNamePrefix")
        if names and prefix:
            raise CloudWatchError(
                "InvalidParameterCombination",
                "AlarmNames and AlarmNamePrefix cannot be used together.",
            )
        if names is not None and len(names) > 100:
            raise CloudWatchError("InvalidParameterValue", "AlarmNames: at most 100 names")
        state = request.get("StateValue")
        if state is not None and state not in STATES:
            raise CloudWatchError("InvalidParameterValue", f"StateValue must be one of {STATES}")
        types = request.get("AlarmTypes") or ["MetricAlarm"]
        size = _max_records(request, 50, 100)
        action = request.get("ActionPrefix")
        chosen = []
        if "MetricAlarm" in types and not (
            request.get("ChildrenOfAlarmName") or request.get("ParentsOfAlarmName")
        ):  # composite alarms are not emulated: no alarm has children or parents
            for alarm in self.alarms.all():
                if names and alarm.name not in names:
                    continue
                if prefix and not alarm.name.startswith(prefix):
                    continue
                if state and alarm.state != state:
                    continue
                document = alarm.document()
                if action and not any(
                    a.startswith(action)
                    for k in ("AlarmActions", "OKActions", "InsufficientDataActions")
                    for a in document[k]
                ):
                    continue
                chosen.append(document)
        page, following = _page(chosen, request, size)
        answer: dict[str, Any] = {"MetricAlarms": page}
        if "CompositeAlarm" in types:
            answer["CompositeAlarms"] = []
        if following:
            answer["NextToken"] = following
        return answer

    def describe_alarm_history(self, request: dict[str, Any]) -> dict[str, Any]:
        kind = request.get("HistoryItemType")
        if kind is not None and kind not in HISTORY_TYPES:
            message = f"HistoryItemType: one of {', '.join(HISTORY_TYPES)}"
            raise CloudWatchError("InvalidParameterValue", message)
        size = _max_records(request, 100, 100)
        start = _epoch(request["StartDate"], "StartDate") if "StartDate" in request else None
        end = _epoch(request["EndDate"], "EndDate") if "EndDate" in request else None
        types = request.get("AlarmTypes") or ["MetricAlarm", "CompositeAlarm"]
        items = [
            item
            for item in self.alarms.history()
            if (not request.get("AlarmName") or item["AlarmName"] == request["AlarmName"])
            and (kind is None or item["HistoryItemType"] == kind)
            and item["AlarmType"] in types
            and (start is None or item["Timestamp"] >= start)
            and (end is None or item["Timestamp"] <= end)
        ]
        if request.get("ScanBy", "TimestampDescending") != "TimestampAscending":
            items.reverse()
        page, following = _page(items, request, size)
        answer: dict[str, Any] = {"AlarmHistoryItems": page}
        if following:
            answer["NextToken"] = following
        return answer

    def set_alarm_state(self, request: dict[str, Any]) -> dict[str, Any]:
        for name in ("AlarmName", "StateValue", "StateReason"):
            if not request.get(name):
                raise CloudWatchError("MissingParameter", f"The parameter {name} is required.")
        data = None
        if request.get("StateReasonData"):
            try:
                data = json.loads(request["StateReasonData"])
            except ValueError:
                raise CloudWatchError("InvalidFormat", "StateReasonData is not JSON") from None
        self.alarms.set_state(
            str(request["AlarmName"]), str(request["StateValue"]), str(request["StateReason"]), data
        )
        return {}


def _finite(value: Any) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise CloudWatchError("InvalidParameterValue", "The value must be a finite number")
    return number
