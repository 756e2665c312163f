"""Values inside a query, and how Insights writes them out and orders them.

Inside the engine a field holds a str, an int, a float, or a `Millis` (a time: @timestamp,
@ingestionTime, bin(), datefloor(), ...); None means the field is absent. Insights returns
every value as a string, times as `2024-05-01 12:00:00.000` (UTC).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any


class Millis(int):
    """A point in time, in epoch milliseconds: formats as Insights formats times."""

    __slots__ = ()


def format_time(millis: int) -> str:
    moment = datetime.fromtimestamp(millis / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{millis % 1000:03d}"


def format_value(value: Any) -> str:
    """The string GetQueryResults gives for a value (callers drop absent ones)."""
    if isinstance(value, Millis):
        return format_time(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    return str(value)


_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")


def to_number(value: Any) -> int | float | None:
    """The number a value stands for (a numeric string counts), else None."""
    kind = type(value)
    if kind is int or kind is float or kind is Millis:
        return value  # type: ignore[no-any-return]
    if kind is bool:
        return int(value)
    if kind is str:
        text = value.strip()
        if text and (text[0].isdigit() or text[0] == "-") and _NUMBER.fullmatch(text):
            return int(text) if text.lstrip("-").isdigit() else float(text)
    return None


_CHUNKS = re.compile(r"\d+|\D+")


def sort_key(value: Any) -> tuple[int, Any]:
    """Insights' ascending order (CWL_QuerySyntax-Sort): non-number values before number
    values; non-numbers compare chunk by chunk, digit runs by length then value, the rest by
    Unicode. Absent values sort after everything."""
    if value is None:
        return (2, ())
    number = to_number(value)
    if number is not None:
        return (1, number)
    chunks = []
    for chunk in _CHUNKS.findall(str(value)):
        # A digit run against text compares by Unicode ("0" stands for every digit); two digit
        # runs by length, then value.
        if chunk.isdigit():
            chunks.append(("0", len(chunk), int(chunk), ""))
        else:
            chunks.append((chunk[0], 0, 0, chunk))
    return (0, tuple(chunks))
