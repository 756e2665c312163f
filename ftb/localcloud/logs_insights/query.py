"""A parsed query: its commands, in the order they run."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ftb.localcloud.logs_insights.expressions import Expr


@dataclass
class Command:
    keyword: str  # as AWS names it in errors: "fields", "filter", ...
    start: int  # character offsets in the query
    end: int


@dataclass
class Fields(Command):
    items: list[tuple[str, Expr]] = field(default_factory=list)  # (output name, expression)


@dataclass
class Display(Command):
    names: list[str] = field(default_factory=list)


@dataclass
class Filter(Command):
    condition: Expr | None = None


@dataclass
class Parse(Command):
    source: str = "@message"
    pattern: re.Pattern[str] | None = None
    names: list[str] = field(default_factory=list)  # the pattern's groups, in order


@dataclass
class Sort(Command):
    keys: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)


@dataclass
class Limit(Command):
    count: int = 0


@dataclass
class Aggregate:
    name: str  # the output column: the alias, or the call as written ("count(*)")
    function: str  # count, count_distinct, sum, avg, min, max, pct
    argument: Expr | None  # None: count(*)
    percentile: float = 0.0


@dataclass
class Stats(Command):
    aggregates: list[Aggregate] = field(default_factory=list)
    groups: list[tuple[str, Expr]] = field(default_factory=list)


@dataclass
class Dedup(Command):
    names: list[str] = field(default_factory=list)


@dataclass
class Query:
    text: str
    commands: list[Command]

    @property
    def has_stats(self) -> bool:
        return any(isinstance(command, Stats) for command in self.commands)
