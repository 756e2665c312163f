"""The alarm state rules, against AWS's documented examples ("Evaluating an alarm", "Configuring
how CloudWatch alarms treat missing data": the table with Evaluation Periods 3 and Datapoints
to Alarm 3 over a five-period evaluation range, X breaching, 0 not breaching, - missing)."""

from __future__ import annotations

import pytest

from ftb.localcloud.cloudwatch.evaluation import (
    ALARM,
    INSUFFICIENT_DATA,
    OK,
    Rule,
    evaluate,
)

THRESHOLD = 10.0


def rule(treatment: str, n: int = 3, m: int = 3) -> Rule:
    return Rule("GreaterThanOrEqualToThreshold", THRESHOLD, n, m, treatment)


def points(pattern: str) -> list[tuple[float, float | None]]:
    """'0 - X - X' -> one datapoint per period, oldest first."""
    values = {"0": 1.0, "X": 50.0, "-": None}
    return [(60.0 * i, values[c]) for i, c in enumerate(pattern.split())]


# AWS's table: each row, under missing, ignore, breaching, notBreaching ("keep": the current
# state is retained).
TABLE = [
    ("0 - X - X", OK, OK, OK, OK),
    ("- - - - -", INSUFFICIENT_DATA, "keep", ALARM, OK),
    ("0 X X - X", ALARM, ALARM, ALARM, ALARM),
    ("- - X - -", ALARM, ALARM, ALARM, OK),
    ("0 - - - -", OK, OK, OK, OK),
]


@pytest.mark.parametrize("row", TABLE, ids=[row[0] for row in TABLE])
@pytest.mark.parametrize(
    "column", [(1, "missing"), (2, "ignore"), (3, "breaching"), (4, "notBreaching")]
)
def test_the_documented_missing_data_table(row: tuple[str, ...], column: tuple[int, str]) -> None:
    # Given the row's evaluation range and the column's treatment of missing data
    index, treatment = column
    expected = row[index]
    current = "SOME_STATE"
    # When the alarm is evaluated
    outcome = evaluate(rule(treatment), points(row[0]), current)
    # Then it reaches the documented state
    assert outcome.state == (current if expected == "keep" else expected)


def test_m_out_of_n_alarms_on_m_breaching_datapoints_among_the_last_n() -> None:
    # Given 2 of 3 (DatapointsToAlarm 2, EvaluationPeriods 3)
    two_of_three = rule("missing", n=3, m=2)
    # When two of the last three breach, not adjacent / when only one does
    # Then ALARM / OK
    assert evaluate(two_of_three, points("0 0 X 0 X"), OK).state == ALARM
    assert evaluate(two_of_three, points("X X 0 0 X"), ALARM).state == OK


def test_with_enough_real_datapoints_missing_data_plays_no_part() -> None:
    # Given three real datapoints in the range, none breaching, with gaps between them
    # When the alarm treats missing data as breaching
    outcome = evaluate(rule("breaching"), points("0 - 0 - 0"), ALARM)
    # Then the real ones are evaluated: OK
    assert outcome.state == OK
    assert [v for _, v in outcome.evaluated] == [1.0, 1.0, 1.0]


def test_breaching_fills_only_the_periods_it_needs() -> None:
    # Given one real non-breaching datapoint, N=3, M=2
    # When missing data is breaching: the two filled points breach
    assert evaluate(rule("breaching", m=2), points("- - 0 - -"), OK).state == ALARM
    # And with M=3 the real good one keeps it OK
    assert evaluate(rule("breaching", m=3), points("- - 0 - -"), OK).state == OK


def test_the_reasons_read_as_cloudwatch_writes_them() -> None:
    # Given a one-period alarm on a Sum >= 1
    one = Rule("GreaterThanOrEqualToThreshold", 1.0, 1, 1, "notBreaching")
    # When a breaching datapoint arrives, then when none does
    alarm = evaluate(one, [(0.0, None), (60.0, None), (120.0, 3.0)], OK)
    calm = evaluate(one, [(0.0, None), (60.0, None), (120.0, None)], ALARM)
    # Then the reasons say what CloudWatch's say
    assert alarm.state == ALARM
    assert alarm.reason == (
        "Threshold Crossed: 1 out of the last 1 datapoints [3.0 (01/01/70 00:02:00)] was "
        "greater than or equal to the threshold (1.0) (minimum 1 datapoint for OK -> ALARM "
        "transition)."
    )
    assert calm.state == OK
    assert calm.reason == (
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint "
        "was treated as [NonBreaching]."
    )


@pytest.mark.parametrize(
    ("operator", "value", "breaches"),
    [
        ("GreaterThanThreshold", 10.0, False),
        ("GreaterThanOrEqualToThreshold", 10.0, True),
        ("LessThanThreshold", 10.0, False),
        ("LessThanOrEqualToThreshold", 10.0, True),
        ("LessThanThreshold", 9.0, True),
    ],
)
def test_each_comparison_operator(operator: str, value: float, breaches: bool) -> None:
    # Given a threshold of 10 and one datapoint
    one = Rule(operator, THRESHOLD, 1, 1, "missing")
    # When evaluated / Then it breaches exactly as the operator says
    assert evaluate(one, [(0.0, value)], OK).state == (ALARM if breaches else OK)
