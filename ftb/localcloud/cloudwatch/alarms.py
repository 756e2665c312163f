"""The metric alarms: their configuration (PutMetricAlarm's, validated as CloudWatch does),
their state, their history, and one evaluation of each on the scaled clock.

Time: an alarm's Period is evaluated over Period x `scale` real seconds (`ftb local
--alarm-period-scale`, 1 by default: real time). Datapoints keep their real timestamps, so
GetMetricData answers for real time ranges; only the alarms' windows shrink.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ftb.localcloud.cloudwatch import metric_math
from ftb.localcloud.cloudwatch.errors import CloudWatchError
from ftb.localcloud.cloudwatch.evaluation import (
    ALARM,
    COMPARISONS,
    EXTRA_PERIODS,
    INSUFFICIENT_DATA,
    OK,
    TREATMENTS,
    Datapoint,
    Rule,
    evaluate,
    reason_data,
)
from ftb.localcloud.cloudwatch.store import (
    BASIC_STATISTICS,
    MetricKey,
    MetricStore,
    is_percentile,
)

STATES = (OK, ALARM, INSUFFICIENT_DATA)
MAX_HISTORY = 10_000
Listener = Callable[["MetricAlarm", str, str], None]  # alarm, old state, new state


def _invalid(message: str) -> CloudWatchError:
    return CloudWatchError("InvalidParameterValue", message)


def _require(params: dict[str, Any], name: str) -> Any:
    if params.get(name) in (None, ""):
        raise CloudWatchError("MissingParameter", f"The parameter {name} is required.")
    return params[name]


def _dimensions(raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, list) or len(raw) > 30:
        raise _invalid("Dimensions: a list of at most 30 {Name, Value}")
    found = {}
    for item in raw:
        if not isinstance(item, dict) or not item.get("Name") or "Value" not in item:
            raise CloudWatchError("MissingParameter", "A dimension needs a Name and a Value.")
        found[str(item["Name"])] = str(item["Value"])
    return found


def _period(value: Any, where: str) -> int:
    try:
        period = int(value)
    except (TypeError, ValueError):
        raise _invalid(f"{where}: the period must be a number of seconds") from None
    if period not in (10, 20, 30) and (period < 60 or period % 60):
        raise _invalid(f"{where}: the period must be 10, 20, 30 or a multiple of 60 seconds")
    return period


def _statistic(value: Any) -> str:
    if value in BASIC_STATISTICS or (isinstance(value, str) and is_percentile(value)):
        return str(value)
    raise _invalid(
        f"The statistic {value!r} is not evaluated locally (basic statistics and pNN only)"
    )


@dataclass(frozen=True)
class MetricStat:
    key: MetricKey
    stat: str
    period: int
    unit: str | None = None


@dataclass(frozen=True)
class Query:
    """One entry of an alarm's `Metrics`: a metric or an expression."""

    id: str
    stat: MetricStat | None
    expression: str | None
    label: str | None
    return_data: bool
    document: dict[str, Any]


def parse_metric_stat(raw: Any, where: str) -> MetricStat:
    if not isinstance(raw, dict):
        raise CloudWatchError("MissingParameter", f"{where}: MetricStat is required")
    metric = raw.get("Metric") or {}
    key = MetricKey.of(
        str(_require(metric, "Namespace")),
        str(_require(metric, "MetricName")),
        _dimensions(metric.get("Dimensions")),
    )
    period = _period(_require(raw, "Period"), where)
    return MetricStat(key, _statistic(_require(raw, "Stat")), period, raw.get("Unit"))


def parse_queries(raw: Any, *, alarm: bool) -> list[Query]:
    if not isinstance(raw, list) or not raw:
        raise CloudWatchError("MissingParameter", "Metrics needs at least one query.")
    queries: list[Query] = []
    for item in raw:
        if not isinstance(item, dict):
            raise _invalid("Metrics: each entry is an object")
        query_id = str(_require(item, "Id"))
        if not query_id[0].islower() or not query_id.replace("_", "a").isalnum():
            raise _invalid(f"Id {query_id!r}: starts with a lowercase letter; letters, digits, _")
        has_stat, has_expression = "MetricStat" in item, "Expression" in item
        if has_stat == has_expression:
            raise CloudWatchError(
                "InvalidParameterCombination",
                f"{query_id}: exactly one of MetricStat and Expression",
            )
        expression = item.get("Expression")
        if expression is not None:
            try:
                metric_math.parse(str(expression))
            except metric_math.ExpressionError as error:
                raise CloudWatchError("ValidationError", f"{query_id}: {error}") from None
        queries.append(
            Query(
                query_id,
                parse_metric_stat(item["MetricStat"], query_id) if has_stat else None,
                str(expression) if expression is not None else None,
                item.get("Label"),
                item.get("ReturnData", True) not in (False, "false"),
                item,
            )
        )
    if len({q.id for q in queries}) != len(queries):
        raise _invalid("Metrics: the ids must be unique")
    if alarm and sum(q.return_data for q in queries) != 1:
        raise _invalid("Metrics: exactly one entry of an alarm has ReturnData true")
    if alarm and len({q.stat.period for q in queries if q.stat}) > 1:
        raise _invalid("Metrics: every metric of an alarm has the same period")
    return queries


@dataclass
class MetricAlarm:
    name: str
    arn: str
    params: dict[str, Any]  # PutMetricAlarm's, as given (what DescribeAlarms echoes)
    rule: Rule
    stat: MetricStat | None
    queries: list[Query]
    period: int
    state: str = INSUFFICIENT_DATA
    reason: str = "Unchecked: Initial alarm creation"
    reason_data: dict[str, Any] | None = None
    updated: float = field(default_factory=time.time)
    transitioned: float = field(default_factory=time.time)
    configured: float = field(default_factory=time.time)

    @classmethod
    def from_params(cls, params: dict[str, Any], region: str, account: str) -> MetricAlarm:
        name = str(_require(params, "AlarmName"))
        if len(name) > 255:
            raise _invalid("AlarmName: at most 255 characters")
        periods = int(_require(params, "EvaluationPeriods"))
        if periods < 1:
            raise _invalid("EvaluationPeriods: at least 1")
        datapoints = int(params.get("DatapointsToAlarm") or periods)
        if not 1 <= datapoints <= periods:
            raise _invalid("DatapointsToAlarm: from 1 to EvaluationPeriods")
        comparison = str(_require(params, "ComparisonOperator"))
        if comparison not in COMPARISONS:
            raise _invalid(
                f"ComparisonOperator {comparison}: anomaly detection is not emulated locally"
            )
        if params.get("ThresholdMetricId"):
            raise _invalid("ThresholdMetricId (anomaly detection) is not emulated locally")
        threshold = float(_require(params, "Threshold"))
        treatment = str(params.get("TreatMissingData") or "missing")
        if treatment not in TREATMENTS:
            raise _invalid(f"TreatMissingData must be one of {', '.join(TREATMENTS)}")
        metrics = params.get("Metrics")
        single = params.get("MetricName") or params.get("Namespace")
        if metrics and single:
            raise CloudWatchError(
                "InvalidParameterCombination", "Use either MetricName/Namespace or Metrics."
            )
        stat: MetricStat | None = None
        queries: list[Query] = []
        if metrics:
            queries = parse_queries(metrics, alarm=True)
            period = next((q.stat.period for q in queries if q.stat), 60)
        else:
            statistic, extended = params.get("Statistic"), params.get("ExtendedStatistic")
            if bool(statistic) == bool(extended):
                raise CloudWatchError(
                    "InvalidParameterCombination",
                    "Exactly one of Statistic and ExtendedStatistic is required.",
                )
            if statistic and statistic not in BASIC_STATISTICS:
                raise _invalid(f"Statistic {statistic!r}")
            period = _period(_require(params, "Period"), "Period")
            key = MetricKey.of(
                str(_require(params, "Namespace")),
                str(_require(params, "MetricName")),
                _dimensions(params.get("Dimensions")),
            )
            stat = MetricStat(key, _statistic(statistic or extended), period, params.get("Unit"))
        if period * periods > 7 * 86400:
            raise _invalid("Period x EvaluationPeriods must not exceed 7 days")
        rule = Rule(comparison, threshold, periods, datapoints, treatment)
        arn = f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}"
        return cls(name, arn, dict(params), rule, stat, queries, period)

    # -- what DescribeAlarms answers --------------------------------------------------------

    def document(self) -> dict[str, Any]:
        p = self.params
        doc: dict[str, Any] = {
            "AlarmName": self.name,
            "AlarmArn": self.arn,
            "AlarmConfigurationUpdatedTimestamp": self.configured,
            "ActionsEnabled": p.get("ActionsEnabled", True) not in (False, "false"),
            "OKActions": list(p.get("OKActions") or []),
            "AlarmActions": list(p.get("AlarmActions") or []),
            "InsufficientDataActions": list(p.get("InsufficientDataActions") or []),
            "StateValue": self.state,
            "StateReason": self.reason,
            "StateUpdatedTimestamp": self.updated,
            "StateTransitionedTimestamp": self.transitioned,
            "Dimensions": [],
            "EvaluationPeriods": self.rule.evaluation_periods,
            "DatapointsToAlarm": self.rule.datapoints_to_alarm,
            "Threshold": self.rule.threshold,
            "ComparisonOperator": self.rule.comparison,
            "TreatMissingData": self.rule.treat_missing_data,
        }
        if p.get("AlarmDescription") is not None:
            doc["AlarmDescription"] = p["AlarmDescription"]
        if self.reason_data is not None:
            doc["StateReasonData"] = json.dumps(self.reason_data, separators=(",", ":"))
        if self.stat is not None:
            doc.update(self.stat.key.document())
            stat_key = "Statistic" if self.stat.stat in BASIC_STATISTICS else "ExtendedStatistic"
            doc[stat_key] = self.stat.stat
            doc["Period"] = self.period
            if self.stat.unit:
                doc["Unit"] = self.stat.unit
        else:
            doc["Metrics"] = [q.document for q in self.queries]
        if p.get("EvaluateLowSampleCountPercentile"):
            doc["EvaluateLowSampleCountPercentile"] = p["EvaluateLowSampleCountPercentile"]
        return doc

    # -- one evaluation ----------------------------------------------------------------------

    def datapoints(self, store: MetricStore, now: float, scale: float) -> list[Datapoint]:
        """The evaluation range: one value (or None) per scaled period, oldest first; the
        newest is the period `now` is in."""
        length = self.period * scale
        count = self.rule.evaluation_periods + EXTRA_PERIODS
        current = math.floor(now / length) * length
        grid = [current - length * i for i in range(count - 1, -1, -1)]
        start, end = grid[0], current + length
        if self.stat is not None:
            found = store.buckets(self.stat.key, self.stat.stat, length, start, end, self.stat.unit)
        else:
            found = evaluate_queries(self.queries, store, grid, start, end, scale)[
                next(q.id for q in self.queries if q.return_data)
            ]
        return [(t, found.get(t)) for t in grid]


def evaluate_queries(
    queries: list[Query],
    store: MetricStore,
    grid: list[float],
    start: float,
    end: float,
    scale: float = 1.0,
) -> dict[str, metric_math.Series]:
    """Every query's series on the grid: metrics first, then expressions in dependency order.
    Raises ExpressionError (a cycle, an unknown id, an expression giving no time series)."""
    values: dict[str, metric_math.Value] = {}
    periods: dict[str, float] = {}
    for query in queries:
        if query.stat is not None:
            length = query.stat.period * scale
            values[query.id] = store.buckets(
                query.stat.key, query.stat.stat, length, start, end, query.stat.unit
            )
            periods[query.id] = query.stat.period
    pending = {q.id: metric_math.parse(q.expression) for q in queries if q.expression}
    while pending:
        ready = [i for i, tree in pending.items() if metric_math.references(tree) <= values.keys()]
        if not ready:
            read = set().union(*map(metric_math.references, pending.values()))
            missing = sorted(read - values.keys())
            raise metric_math.ExpressionError(f"unknown or circular ids: {', '.join(missing)}")
        for query_id in ready:
            context = metric_math.Context(values, grid, periods)
            values[query_id] = metric_math.evaluate(pending.pop(query_id), context)
    series: dict[str, metric_math.Series] = {}
    for query_id, value in values.items():
        if isinstance(value, dict):
            series[query_id] = value
        elif isinstance(value, float):  # a number: the same at every timestamp
            series[query_id] = {t: value for t in grid} if math.isfinite(value) else {}
        else:
            raise metric_math.ExpressionError(f"{query_id}: an array is not a time series")
    return series


class Alarms:
    """The alarms of the account and region, with their history; thread-safe."""

    def __init__(self, store: MetricStore, region: str, account: str, scale: float = 1.0) -> None:
        if not 0 < scale <= 1:
            raise ValueError("the alarm period scale must be within (0, 1]")
        self.store = store
        self.region = region
        self.account = account
        self.scale = scale
        self._alarms: dict[str, MetricAlarm] = {}
        self._history: list[dict[str, Any]] = []
        self._lock = threading.RLock()
        self.listeners: list[Listener] = []

    def put(self, params: dict[str, Any]) -> MetricAlarm:
        alarm = MetricAlarm.from_params(params, self.region, self.account)
        with self._lock:
            previous = self._alarms.get(alarm.name)
            if previous is not None and previous.params == alarm.params:
                return previous  # the same configuration (a hot reload): nothing changes
            if previous is not None:  # an update keeps the state, as PutMetricAlarm does
                alarm.state, alarm.reason = previous.state, previous.reason
                alarm.reason_data = previous.reason_data
                alarm.updated, alarm.transitioned = previous.updated, previous.transitioned
            self._alarms[alarm.name] = alarm
            kind = "Update" if previous is not None else "Create"
            summary = f'Alarm "{alarm.name}" {"updated" if previous else "created"}'
            data: dict[str, Any] = {"type": kind, "version": "1.0"}
            config = {k: v for k, v in alarm.document().items() if not k.startswith("State")}
            data["updatedAlarm" if previous else "createdAlarm"] = config
            self._record(alarm, "ConfigurationUpdate", summary, data, alarm.configured)
        return alarm

    def delete(self, names: list[str]) -> None:
        with self._lock:
            missing = [n for n in names if n not in self._alarms]
            if missing:
                raise CloudWatchError(
                    "ResourceNotFound", f"The following alarms were not found: {missing}"
                )
            for name in names:
                alarm = self._alarms.pop(name)
                data = {"type": "Delete", "version": "1.0", "deletedAlarm": {"alarmName": name}}
                self._record(alarm, "ConfigurationUpdate", f'Alarm "{name}" deleted', data)

    def all(self) -> list[MetricAlarm]:
        with self._lock:
            return sorted(self._alarms.values(), key=lambda a: a.name)

    def get(self, name: str) -> MetricAlarm:
        with self._lock:
            alarm = self._alarms.get(name)
        if alarm is None:
            raise CloudWatchError("ResourceNotFound", f"Alarm {name} not found")
        return alarm

    def history(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._history)

    def set_state(
        self, name: str, state: str, reason: str, data: dict[str, Any] | None = None
    ) -> None:
        """SetAlarmState: the state holds until the next evaluation."""
        if state not in STATES:
            raise _invalid(f"StateValue must be one of {', '.join(STATES)}")
        with self._lock:
            self._transition(self.get(name), state, reason, data)

    def evaluate_all(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        for alarm in self.all():
            try:
                points = alarm.datapoints(self.store, now, self.scale)
            except metric_math.ExpressionError as error:
                outcome_state, reason, data = (
                    INSUFFICIENT_DATA,
                    f"Insufficient Data: the expression could not be evaluated ({error}).",
                    None,
                )
            else:
                outcome = evaluate(alarm.rule, points, alarm.state)
                stat: dict[str, Any] = {"period": alarm.period}
                if alarm.stat is not None:
                    basic = alarm.stat.stat in BASIC_STATISTICS
                    stat = {
                        "statistic" if basic else "extendedStatistic": alarm.stat.stat,
                        "period": alarm.period,
                    }
                outcome_state, reason = outcome.state, outcome.reason
                data = reason_data(alarm.rule, outcome, now, points[0][0], stat)
            with self._lock:
                if self._alarms.get(alarm.name) is alarm and outcome_state != alarm.state:
                    self._transition(alarm, outcome_state, reason, data, now)

    def _transition(
        self,
        alarm: MetricAlarm,
        state: str,
        reason: str,
        data: dict[str, Any] | None,
        now: float | None = None,
    ) -> None:
        now = time.time() if now is None else now
        old = {"stateValue": alarm.state, "stateReason": alarm.reason}
        if alarm.reason_data is not None:
            old["stateReasonData"] = alarm.reason_data  # type: ignore[assignment]
        new: dict[str, Any] = {"stateValue": state, "stateReason": reason}
        if data is not None:
            new["stateReasonData"] = data
        previous = alarm.state
        alarm.state, alarm.reason, alarm.reason_data = state, reason, data
        alarm.updated = now
        if state != previous:
            alarm.transitioned = now
        history = {"version": "1.0", "oldState": old, "newState": new}
        summary = f"Alarm updated from {previous} to {state}"
        self._record(alarm, "StateUpdate", summary, history, now)
        for listener in list(self.listeners):
            try:
                listener(alarm, previous, state)
            except Exception:  # a broken terminal must not stop the evaluations
                continue

    def _record(
        self,
        alarm: MetricAlarm,
        kind: str,
        summary: str,
        data: dict[str, Any],
        when: float | None = None,
    ) -> None:
        self._history.append(
            {
                "AlarmName": alarm.name,
                "AlarmType": "MetricAlarm",
                "Timestamp": time.time() if when is None else when,
                "HistoryItemType": kind,
                "HistorySummary": summary,
                "HistoryData": json.dumps(data, separators=(",", ":"), default=str),
            }
        )
        if len(self._history) > MAX_HISTORY:
            del self._history[: len(self._history) - MAX_HISTORY]


def iso_utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()
