"""CloudWatch metric math: the expressions alarms and GetMetricData evaluate.

Supported (AWS's "Using metric math" syntax and functions): numbers, metric and expression ids,
`+ - * / ^`, unary minus, the comparison operators `== != <= >= < >`, `AND`/`&&`, `OR`/`||`,
parentheses, arrays `[a, b]`, and the functions ABS, AVG, CEIL, FILL (a number, REPEAT or
LINEAR), FLOOR, IF, MAX, MIN, PERIOD, SUM. Anything else (SEARCH, METRICS(), INSIGHT_RULE_METRIC,
ANOMALY_DETECTION_BAND, strings...) is refused with ExpressionError: never guessed.

A time series is a dict {timestamp: value} over the query's period grid; an operation between
two series keeps the timestamps both have; a non-finite result (x/0) is a missing point.
As documented: a function of one series that reduces it (SUM, AVG, MIN, MAX) returns a scalar;
of an array of series, a series of the per-timestamp results. Comparisons give 1 or 0.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

Series = dict[float, float]
Value = float | Series | list[Series]

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>==|!=|<=|>=|&&|\|\||[-+*/^<>()\[\],]))"
)
FUNCTIONS = frozenset(
    {"ABS", "AVG", "CEIL", "FILL", "FLOOR", "IF", "MAX", "MIN", "PERIOD", "SUM", "REPEAT", "LINEAR"}
)


class ExpressionError(ValueError):
    """The expression is malformed or uses what the local cloud does not evaluate."""


@dataclass
class Context:
    """What an expression is evaluated against: each id's value, the period grid and period."""

    values: dict[str, Value]
    grid: list[float]
    periods: dict[str, float]


# -- parsing into a small tree: ("num", x) ("id", name) ("call", NAME, args) ("array", items)
# ("neg", x) ("bin", op, left, right)

_PRECEDENCE = [("OR", "||"), ("AND", "&&"), ("==", "!=", "<", ">", "<=", ">="), ("+", "-")]


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        position = 0
        text = text.rstrip()
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None or match.end() == position:
                raise ExpressionError(f"unexpected {text[position : position + 10]!r} in {text!r}")
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind)))
            position = match.end()
        self.index = 0
        self.text = text

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1].upper() != value):
            raise ExpressionError(f"expected {value or 'more'} in {self.text!r}")
        self.index += 1
        return token

    def parse(self) -> Any:
        tree = self.binary(0)
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek()[1]!r} in {self.text!r}")  # type: ignore[index]
        return tree

    def binary(self, level: int) -> Any:
        if level == len(_PRECEDENCE):
            return self.term()
        left = self.binary(level + 1)
        while (token := self.peek()) is not None and token[1].upper() in _PRECEDENCE[level]:
            self.index += 1
            op = {"OR": "||", "AND": "&&"}.get(token[1].upper(), token[1])
            left = ("bin", op, left, self.binary(level + 1))
        return left

    def term(self) -> Any:
        left = self.power()
        while (token := self.peek()) is not None and token[1] in ("*", "/"):
            self.index += 1
            left = ("bin", token[1], left, self.power())
        return left

    def power(self) -> Any:
        base = self.unary()
        if (token := self.peek()) is not None and token[1] == "^":
            self.index += 1
            return ("bin", "^", base, self.power())
        return base

    def unary(self) -> Any:
        token = self.peek()
        if token is not None and token[1] == "-":
            self.index += 1
            return ("neg", self.unary())
        return self.atom()

    def atom(self) -> Any:
        kind, value = self.take()
        if kind == "num":
            return ("num", float(value))
        if value == "(":
            inner = self.binary(0)
            self.take(")")
            return inner
        if value == "[":
            items = [self.binary(0)]
            while self.peek() is not None and self.peek()[1] == ",":  # type: ignore[index]
                self.index += 1
                items.append(self.binary(0))
            self.take("]")
            return ("array", items)
        if kind == "name":
            if self.peek() is not None and self.peek()[1] == "(":  # type: ignore[index]
                name = value.upper()
                if name not in FUNCTIONS:
                    raise ExpressionError(f"the function {value} is not emulated locally")
                self.index += 1
                args = [self.binary(0)]
                while self.peek() is not None and self.peek()[1] == ",":  # type: ignore[index]
                    self.index += 1
                    args.append(self.binary(0))
                self.take(")")
                return ("call", name, args)
            if value.upper() in ("REPEAT", "LINEAR"):
                return ("keyword", value.upper())
            if not value[0].islower():
                raise ExpressionError(f"{value!r}: an id starts with a lowercase letter")
            return ("id", value)
        raise ExpressionError(f"unexpected {value!r} in {self.text!r}")


def parse(expression: str) -> Any:
    if not expression.strip():
        raise ExpressionError("the expression is empty")
    return _Parser(expression).parse()


def references(tree: Any) -> set[str]:
    """The ids an expression reads."""
    kind = tree[0]
    if kind == "id":
        return {tree[1]}
    if kind == "neg":
        return references(tree[1])
    if kind == "bin":
        return references(tree[2]) | references(tree[3])
    if kind in ("call", "array"):
        items = tree[2] if kind == "call" else tree[1]
        return set().union(*(references(item) for item in items))
    return set()


# -- evaluation ---------------------------------------------------------------------------

_BINARY: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b if b != 0 else math.nan,
    "^": lambda a, b: _power(a, b),
    "==": lambda a, b: float(a == b),
    "!=": lambda a, b: float(a != b),
    "<": lambda a, b: float(a < b),
    ">": lambda a, b: float(a > b),
    "<=": lambda a, b: float(a <= b),
    ">=": lambda a, b: float(a >= b),
    "&&": lambda a, b: float(bool(a) and bool(b)),
    "||": lambda a, b: float(bool(a) or bool(b)),
}


def _power(a: float, b: float) -> float:
    try:
        return float(a**b)
    except (OverflowError, ZeroDivisionError):
        return math.nan


def _finite(series: Series) -> Series:
    return {t: v for t, v in series.items() if isinstance(v, float) and math.isfinite(v)}


def _apply(op: Callable[[float, float], float], left: Value, right: Value) -> Value:
    if isinstance(left, list) or isinstance(right, list):
        if isinstance(left, list):
            return [_apply(op, item, right) for item in left]  # type: ignore[misc]
        return [_apply(op, left, item) for item in right]  # type: ignore[misc, union-attr]
    if isinstance(left, dict) and isinstance(right, dict):
        return _finite({t: op(v, right[t]) for t, v in left.items() if t in right})
    if isinstance(left, dict):
        return _finite({t: op(v, float(right)) for t, v in left.items()})  # type: ignore[arg-type]
    if isinstance(right, dict):
        return _finite({t: op(float(left), v) for t, v in right.items()})
    return op(float(left), float(right))


def evaluate(tree: Any, context: Context) -> Value:
    kind = tree[0]
    if kind == "num":
        return float(tree[1])
    if kind == "id":
        if tree[1] not in context.values:
            raise ExpressionError(f"unknown id {tree[1]!r}")
        return context.values[tree[1]]
    if kind == "neg":
        return _apply(_BINARY["-"], 0.0, evaluate(tree[1], context))
    if kind == "bin":
        return _apply(_BINARY[tree[1]], evaluate(tree[2], context), evaluate(tree[3], context))
    if kind == "array":
        items = [evaluate(item, context) for item in tree[1]]
        series: list[Series] = []
        for item in items:
            if isinstance(item, dict):
                series.append(item)
            elif isinstance(item, list):
                series.extend(item)
            else:
                raise ExpressionError("an array holds time series, not numbers")
        return series
    if kind == "keyword":
        raise ExpressionError(f"{tree[1]} is an argument of FILL only")
    return _call(tree[1], tree[2], context)


def _call(name: str, args: list[Any], context: Context) -> Value:
    if name == "IF":
        if len(args) not in (2, 3):
            raise ExpressionError("IF takes (condition, trueValue[, falseValue])")
        condition = evaluate(args[0], context)
        yes = evaluate(args[1], context)
        no = evaluate(args[2], context) if len(args) == 3 else None
        return _if(condition, yes, no)
    if name == "FILL":
        if len(args) != 2:
            raise ExpressionError("FILL takes (series, value | REPEAT | LINEAR)")
        target = evaluate(args[0], context)
        how: float | str = (
            args[1][1] if args[1][0] == "keyword" else _scalar(evaluate(args[1], context))
        )
        if isinstance(target, list):
            return [_fill(item, how, context.grid) for item in target]
        if not isinstance(target, dict):
            raise ExpressionError("FILL takes a time series")
        return _fill(target, how, context.grid)
    if name == "PERIOD":
        if len(args) != 1 or args[0][0] != "id" or args[0][1] not in context.periods:
            raise ExpressionError("PERIOD takes a metric id")
        return float(context.periods[args[0][1]])
    if len(args) != 1:
        raise ExpressionError(f"{name} takes one argument")
    value = evaluate(args[0], context)
    if name in ("ABS", "CEIL", "FLOOR"):
        unary = _UNARY[name]
        return _apply(lambda a, _b: float(unary(a)), value, 0.0)
    reduce = _REDUCERS[name]
    if isinstance(value, list):  # per timestamp, across the series
        stamps = sorted(set().union(*(s.keys() for s in value)))
        return {t: reduce([s[t] for s in value if t in s]) for t in stamps}
    if isinstance(value, dict):
        return reduce(list(value.values())) if value else math.nan
    return float(value)


_UNARY: dict[str, Callable[[float], float]] = {
    "ABS": lambda a: abs(a),
    "CEIL": lambda a: float(math.ceil(a)),
    "FLOOR": lambda a: float(math.floor(a)),
}
_REDUCERS: dict[str, Callable[[list[float]], float]] = {
    "SUM": lambda xs: float(sum(xs)),
    "AVG": lambda xs: float(sum(xs) / len(xs)),
    "MIN": lambda xs: float(min(xs)),
    "MAX": lambda xs: float(max(xs)),
}


def _scalar(value: Value) -> float:
    if isinstance(value, (dict, list)):
        raise ExpressionError("expected a number")
    return float(value)


def _at(value: Value | None, stamp: float) -> float | None:
    if value is None:
        return None
    if isinstance(value, dict):
        return value.get(stamp)
    if isinstance(value, list):
        raise ExpressionError("IF takes time series or numbers, not arrays")
    return float(value)


def _if(condition: Value, yes: Value, no: Value | None) -> Value:
    if not isinstance(condition, dict):
        if isinstance(condition, list):
            raise ExpressionError("IF takes a time series or number as its condition")
        chosen = yes if condition else no
        return math.nan if chosen is None else chosen
    result: Series = {}
    for stamp, flag in condition.items():
        value = _at(yes if flag else no, stamp)
        if value is not None:
            result[stamp] = value
    return _finite(result)


def _fill(series: Series, how: float | str, grid: list[float]) -> Series:
    if isinstance(how, float):
        return {t: series.get(t, how) for t in grid}
    known = sorted(series.items())
    result = dict(series)
    if how == "REPEAT":
        last: float | None = None
        for stamp in grid:
            if stamp in series:
                last = series[stamp]
            elif last is not None:
                result[stamp] = last
        return result
    for (t0, v0), (t1, v1) in pairwise(known):  # LINEAR, between points
        for stamp in grid:
            if t0 < stamp < t1:
                result[stamp] = v0 + (v1 - v0) * (stamp - t0) / (t1 - t0)
    return result
