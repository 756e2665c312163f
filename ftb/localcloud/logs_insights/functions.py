"""The scalar functions of `fields` and `filter` expressions this engine runs, and the
aggregation functions of `stats` (CWL_QuerySyntax-operations-functions, CWL_QuerySyntax-Stats).

A function not listed here is refused as a MalformedQueryException: never evaluated as absent.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ftb.localcloud.logs_insights.values import Millis, to_number

# bin() and datefloor()/dateceil() periods (CWL_QuerySyntax-Stats lists the units; a plural
# "s" is allowed). Months, quarters and years are calendar periods: not run here.
_UNIT_MS = {
    "ms": 1,
    "msec": 1,
    "millisecond": 1,
    "s": 1000,
    "sec": 1000,
    "second": 1000,
    "m": 60_000,
    "min": 60_000,
    "minute": 60_000,
    "h": 3_600_000,
    "hr": 3_600_000,
    "hour": 3_600_000,
    "d": 86_400_000,
    "day": 86_400_000,
    "w": 604_800_000,
    "week": 604_800_000,
}
_CALENDAR_UNITS = {"mo", "mon", "month", "q", "qtr", "quarter", "y", "yr", "year"}


def period_ms(text: str) -> int | None:
    """Milliseconds in a period such as `5m` or `1hr`; None for calendar periods (months,
    quarters, years) and unknown units."""
    match = re.fullmatch(r"(\d+)([A-Za-z]+)", text)
    if match is None:
        return None
    count, unit = int(match[1]), match[2].lower()
    if (
        unit not in _UNIT_MS
        and unit.endswith("s")
        and unit[:-1] in _UNIT_MS | dict.fromkeys(_CALENDAR_UNITS, 0)
    ):
        unit = unit[:-1]
    if unit not in _UNIT_MS or count <= 0:
        return None
    return count * _UNIT_MS[unit]


def _text(value: Any) -> str | None:
    return None if value is None else (value if isinstance(value, str) else str(value))


def _number_fn(fn: Callable[[float], Any]) -> Callable[[Any], Any]:
    def apply(value: Any) -> Any:
        number = to_number(value)
        return None if number is None else fn(number)

    return apply


def _substr(value: Any, start: Any, length: Any = None) -> Any:
    text, begin = _text(value), to_number(start)
    if text is None or begin is None:
        return None
    begin = int(begin)
    if length is None:
        return text[begin:]
    count = to_number(length)
    return None if count is None else text[begin : begin + int(count)]


def _replace(value: Any, old: Any, new: Any) -> Any:
    text = _text(value)
    if text is None or old is None:
        return None
    return text.replace(_text(old) or "", _text(new) or "")


def _strcontains(value: Any, part: Any) -> Any:
    text = _text(value)
    return None if text is None or part is None else int((_text(part) or "") in text)


def _concat(*values: Any) -> Any:
    return "".join(_text(value) or "" for value in values)


def _coalesce(*values: Any) -> Any:
    return next((value for value in values if value is not None and value != ""), None)


def _ispresent(value: Any) -> Any:
    return value is not None


def _isempty(value: Any) -> Any:
    return value is None or _text(value) == ""


def _isblank(value: Any) -> Any:
    return value is None or (_text(value) or "").strip() == ""


def _extreme(pick: Callable[..., Any]) -> Callable[..., Any]:
    def apply(*values: Any) -> Any:
        numbers = [number for number in map(to_number, values) if number is not None]
        return pick(numbers) if numbers else None

    return apply


def _log(value: float) -> Any:
    return math.log(value) if value > 0 else None


def _sqrt(value: float) -> Any:
    return math.sqrt(value) if value >= 0 else None


def _from_millis(value: Any) -> Any:
    number = to_number(value)
    return None if number is None else Millis(int(number))


def _to_millis(value: Any) -> Any:
    number = to_number(value)
    return None if number is None else int(number)


def _date_round(up: bool) -> Callable[[Any, Any], Any]:
    def apply(value: Any, period: Any) -> Any:
        number = to_number(value)
        if number is None or not isinstance(period, int) or period <= 0:
            return None
        floor = int(number) - int(number) % period
        return Millis(floor + period if up and floor != int(number) else floor)

    return apply


@dataclass(frozen=True)
class Scalar:
    function: Callable[..., Any]
    min_args: int
    max_args: int | None  # None: any number
    period_args: frozenset[int] = frozenset()  # argument positions that take a period (5m)


SCALARS: dict[str, Scalar] = {
    # strings
    "strlen": Scalar(lambda v: None if v is None else len(_text(v) or ""), 1, 1),
    "toupper": Scalar(lambda v: None if v is None else (_text(v) or "").upper(), 1, 1),
    "tolower": Scalar(lambda v: None if v is None else (_text(v) or "").lower(), 1, 1),
    "trim": Scalar(lambda v: None if v is None else (_text(v) or "").strip(), 1, 1),
    "ltrim": Scalar(lambda v: None if v is None else (_text(v) or "").lstrip(), 1, 1),
    "rtrim": Scalar(lambda v: None if v is None else (_text(v) or "").rstrip(), 1, 1),
    "substr": Scalar(_substr, 2, 3),
    "replace": Scalar(_replace, 3, 3),
    "strcontains": Scalar(_strcontains, 2, 2),
    "concat": Scalar(_concat, 1, None),
    "coalesce": Scalar(_coalesce, 1, None),
    "ispresent": Scalar(_ispresent, 1, 1),
    "isempty": Scalar(_isempty, 1, 1),
    "isblank": Scalar(_isblank, 1, 1),
    # numbers
    "abs": Scalar(_number_fn(abs), 1, 1),
    "ceil": Scalar(_number_fn(math.ceil), 1, 1),
    "floor": Scalar(_number_fn(math.floor), 1, 1),
    "greatest": Scalar(_extreme(max), 1, None),
    "least": Scalar(_extreme(min), 1, None),
    "log": Scalar(_number_fn(_log), 1, 1),
    "sqrt": Scalar(_number_fn(_sqrt), 1, 1),
    # dates
    "frommillis": Scalar(_from_millis, 1, 1),
    "tomillis": Scalar(_to_millis, 1, 1),
    "datefloor": Scalar(_date_round(False), 2, 2, frozenset({1})),
    "dateceil": Scalar(_date_round(True), 2, 2, frozenset({1})),
}

# stats functions: name -> (min args, max args); pct takes the field and a percentile.
AGGREGATES: dict[str, tuple[int, int]] = {
    "count": (0, 1),
    "count_distinct": (1, 1),
    "sum": (1, 1),
    "avg": (1, 1),
    "min": (1, 1),
    "max": (1, 1),
    "pct": (2, 2),
    "earliest": (1, 1),  # the value in the event with the earliest @timestamp
    "latest": (1, 1),
    "sortsfirst": (1, 1),  # the value that sorts first (Insights' sort order)
    "sortslast": (1, 1),
}
