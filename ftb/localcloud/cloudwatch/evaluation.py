"""Whether an alarm is ALARM, OK or INSUFFICIENT_DATA, from its evaluation range: the rules of
AWS's "Evaluating an alarm" and "Configuring how CloudWatch alarms treat missing data"
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-evaluation.html,
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html):

- the evaluation range holds more periods than EvaluationPeriods (N); when it holds at least N
  real datapoints, the N most recent are evaluated and TreatMissingData plays no part;
- with fewer (but some), breaching/notBreaching fill the gap with as few filled points as
  needed (N minus the real ones) and all the real ones count; missing/ignore evaluate the real
  ones alone (the doc's table: `- - X - -` goes to ALARM under missing);
- with none: missing -> INSUFFICIENT_DATA, ignore -> the current state, breaching -> ALARM,
  notBreaching -> OK;
- ALARM when at least DatapointsToAlarm (M, default N) of the evaluated points breach.

Pure functions: the caller gathers the datapoints (alarms.py) and records the transition.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ALARM, OK, INSUFFICIENT_DATA = "ALARM", "OK", "INSUFFICIENT_DATA"
COMPARISONS = {
    "GreaterThanOrEqualToThreshold": ("greater than or equal to", lambda v, t: v >= t),
    "GreaterThanThreshold": ("greater than", lambda v, t: v > t),
    "LessThanThreshold": ("less than", lambda v, t: v < t),
    "LessThanOrEqualToThreshold": ("less than or equal to", lambda v, t: v <= t),
}
TREATMENTS = ("missing", "notBreaching", "breaching", "ignore")
# How many periods beyond EvaluationPeriods the range reaches back (AWS: "a higher number of
# data points than the number specified as Evaluation Periods"; the exact number is AWS's own).
EXTRA_PERIODS = 2

Datapoint = tuple[float, float | None]  # (period start, epoch seconds; value or None: missing)


@dataclass(frozen=True)
class Rule:
    comparison: str
    threshold: float
    evaluation_periods: int
    datapoints_to_alarm: int
    treat_missing_data: str = "missing"


@dataclass
class Outcome:
    state: str
    reason: str
    evaluated: list[Datapoint] = field(default_factory=list)
    recent: list[float] = field(default_factory=list)


def breaches(rule: Rule, value: float) -> bool:
    return bool(COMPARISONS[rule.comparison][1](value, rule.threshold))


def _stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%d/%m/%y %H:%M:%S")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def evaluate(rule: Rule, points: list[Datapoint], current: str) -> Outcome:
    """The state the range gives (oldest first, one entry per period, None: missing)."""
    n, m = rule.evaluation_periods, rule.datapoints_to_alarm
    real: list[Datapoint] = [(t, v) for t, v in points if v is not None]
    words = COMPARISONS[rule.comparison][0]
    if not real:
        treatment = rule.treat_missing_data
        state = {"missing": INSUFFICIENT_DATA, "ignore": current, "breaching": ALARM}.get(
            treatment, OK
        )
        if state == INSUFFICIENT_DATA:
            verb = "was" if n == 1 else "were"
            reason = f"Insufficient Data: {_plural(n, 'datapoint')} {verb} unknown."
        else:
            treated = {"breaching": "Breaching", "notBreaching": "NonBreaching"}.get(
                treatment, "Ignored"
            )
            reason = (
                f"Threshold Crossed: no datapoints were received for {_plural(n, 'period')} and "
                f"{_plural(n, 'missing datapoint')} {'was' if n == 1 else 'were'} treated as "
                f"[{treated}]."
            )
        return Outcome(state, reason)
    if len(real) >= n:
        evaluated = real[-n:]
        breaching = sum(breaches(rule, v) for _, v in evaluated if v is not None)
        needed = m
    elif rule.treat_missing_data in ("breaching", "notBreaching"):
        evaluated = real
        fills = n - len(real)
        breaching = sum(breaches(rule, v) for _, v in real if v is not None)
        breaching += fills if rule.treat_missing_data == "breaching" else 0
        needed = m
    else:  # missing, ignore: the real points alone
        evaluated = real
        breaching = sum(breaches(rule, v) for _, v in real if v is not None)
        needed = min(m, len(real))
    state = ALARM if breaching >= needed else OK
    shown = ", ".join(f"{v!r} ({_stamp(t)})" for t, v in reversed(evaluated))
    if state == ALARM:
        reason = (
            f"Threshold Crossed: {breaching} out of the last {len(evaluated)} datapoints "
            f"[{shown}] {'was' if breaching == 1 else 'were'} {words} the threshold "
            f"({rule.threshold!r}) (minimum {_plural(m, 'datapoint')} for OK -> ALARM transition)."
        )
    else:
        good = len(evaluated) - breaching
        reason = (
            f"Threshold Crossed: {good} out of the last {len(evaluated)} datapoints [{shown}] "
            f"{'was' if good == 1 else 'were'} not {words} the threshold ({rule.threshold!r}) "
            f"(minimum {_plural(n - m + 1, 'datapoint')} for ALARM -> OK transition)."
        )
    return Outcome(state, reason, evaluated, [v for _, v in reversed(evaluated) if v is not None])


def reason_data(
    rule: Rule, outcome: Outcome, query: float, start: float, stat: dict[str, Any]
) -> dict[str, Any]:
    """StateReasonData, as CloudWatch writes it for a threshold alarm."""

    def iso(epoch: float) -> str:
        return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")

    data: dict[str, Any] = {"version": "1.0", "queryDate": iso(query), "startDate": iso(start)}
    data.update(stat)
    data["recentDatapoints"] = outcome.recent
    data["threshold"] = rule.threshold
    data["evaluatedDatapoints"] = [
        {"timestamp": iso(t), "value": v} for t, v in reversed(outcome.evaluated)
    ]
    return data
