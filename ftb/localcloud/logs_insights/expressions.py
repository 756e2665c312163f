"""Expressions of `fields`, `filter`, `stats ... by` and function arguments, as small nodes
that evaluate against one record (anything with `get(name)`)."""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ftb.localcloud.logs_insights.values import Millis, to_number


class Record(Protocol):
    def get(self, name: str) -> Any: ...


class Expr:
    """A node: `evaluate(record)` gives a value (None when absent)."""

    def evaluate(self, record: Record) -> Any:
        raise NotImplementedError

    def fields(self) -> set[str]:
        """The record fields this expression reads."""
        return set()


@dataclass
class Literal(Expr):
    value: Any

    def evaluate(self, record: Record) -> Any:
        return self.value


@dataclass
class Field(Expr):
    name: str

    def evaluate(self, record: Record) -> Any:
        return record.get(self.name)

    def fields(self) -> set[str]:
        return {self.name}


def _children_fields(children: Sequence[Expr]) -> set[str]:
    found: set[str] = set()
    for child in children:
        found |= child.fields()
    return found


_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "%": math.fmod,
    "^": operator.pow,
}


@dataclass
class Arithmetic(Expr):
    op: str
    left: Expr
    right: Expr

    def evaluate(self, record: Record) -> Any:
        left = to_number(self.left.evaluate(record))
        right = to_number(self.right.evaluate(record))
        if left is None or right is None:
            return None
        try:
            result = _ARITHMETIC[self.op](left, right)
        except (ZeroDivisionError, OverflowError, ValueError):
            return None
        return None if isinstance(result, complex) else result

    def fields(self) -> set[str]:
        return _children_fields([self.left, self.right])


@dataclass
class Negate(Expr):
    operand: Expr

    def evaluate(self, record: Record) -> Any:
        value = to_number(self.operand.evaluate(record))
        return None if value is None else -value

    def fields(self) -> set[str]:
        return self.operand.fields()


def _comparable(left: Any, right: Any) -> tuple[Any, Any] | None:
    """Numbers compare as numbers (a numeric string against a number counts as one), anything
    else as text; None when either side is absent."""
    if left is None or right is None:
        return None
    if isinstance(left, str) and isinstance(right, str):
        return left, right
    left_number, right_number = to_number(left), to_number(right)
    if left_number is not None and right_number is not None:
        return left_number, right_number
    return str(left), str(right)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass
class Compare(Expr):
    op: str
    left: Expr
    right: Expr

    def evaluate(self, record: Record) -> Any:
        pair = _comparable(self.left.evaluate(record), self.right.evaluate(record))
        return False if pair is None else _COMPARE[self.op](*pair)

    def fields(self) -> set[str]:
        return _children_fields([self.left, self.right])


@dataclass
class Match(Expr):
    """`like "text"` (a substring), `like /regex/` and `=~ /regex/` (a search), `not like`."""

    operand: Expr
    pattern: re.Pattern[str] | None
    text: str | None
    negate: bool = False

    def evaluate(self, record: Record) -> Any:
        value = self.operand.evaluate(record)
        if value is None:
            return False
        subject = value if isinstance(value, str) else str(value)
        if self.pattern is not None:
            found = self.pattern.search(subject) is not None
        else:
            found = (self.text or "") in subject
        return found != self.negate

    def fields(self) -> set[str]:
        return self.operand.fields()


@dataclass
class InList(Expr):
    operand: Expr
    values: list[Any]
    negate: bool = False

    def evaluate(self, record: Record) -> Any:
        value = self.operand.evaluate(record)
        if value is None:
            return False
        found = any(
            _comparable(value, item) is not None and _equal(value, item) for item in self.values
        )
        return found != self.negate

    def fields(self) -> set[str]:
        return self.operand.fields()


def _equal(left: Any, right: Any) -> bool:
    pair = _comparable(left, right)
    return pair is not None and pair[0] == pair[1]


@dataclass
class And(Expr):
    parts: list[Expr]

    def evaluate(self, record: Record) -> Any:
        return all(truthy(part.evaluate(record)) for part in self.parts)

    def fields(self) -> set[str]:
        return _children_fields(self.parts)


@dataclass
class Or(Expr):
    parts: list[Expr]

    def evaluate(self, record: Record) -> Any:
        return any(truthy(part.evaluate(record)) for part in self.parts)

    def fields(self) -> set[str]:
        return _children_fields(self.parts)


@dataclass
class Not(Expr):
    operand: Expr

    def evaluate(self, record: Record) -> Any:
        return not truthy(self.operand.evaluate(record))

    def fields(self) -> set[str]:
        return self.operand.fields()


@dataclass
class Call(Expr):
    """A scalar function; `function` receives the evaluated arguments."""

    name: str
    function: Callable[..., Any]
    args: list[Expr]

    def evaluate(self, record: Record) -> Any:
        try:
            return self.function(*(arg.evaluate(record) for arg in self.args))
        except (TypeError, ValueError, OverflowError, ZeroDivisionError, re.error):
            return None

    def fields(self) -> set[str]:
        return _children_fields(self.args)


@dataclass
class Bin(Expr):
    """`bin(period)`: @timestamp rounded down to the period."""

    period_ms: int

    def evaluate(self, record: Record) -> Any:
        stamp = record.get("@timestamp")
        if stamp is None:
            return None
        return Millis(int(stamp) - int(stamp) % self.period_ms)

    def fields(self) -> set[str]:
        return {"@timestamp"}


def truthy(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return value != ""
    return bool(value)
