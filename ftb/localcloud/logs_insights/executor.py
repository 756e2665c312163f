"""Run a parsed query over log events: every command, in order, none skipped.

Events enter newest first (so a query without `sort` lists the newest events first, and
`limit` without `sort` keeps the newest). A query without `fields`/`display` returns every
field of each event; `fields` adds to what is returned, `display` says exactly what is;
`parse` adds the fields it extracts. `stats` turns events into one row per group (group
fields first, then the aggregates); later commands work on those rows. Without a `limit`
command, StartQuery's `limit` (default 10,000) caps the rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ftb.localcloud.logs_insights import query as q
from ftb.localcloud.logs_insights.expressions import Expr, Field, truthy
from ftb.localcloud.logs_insights.prefilter import needles
from ftb.localcloud.logs_insights.records import EventRecord, RowRecord
from ftb.localcloud.logs_insights.values import Millis, format_value, sort_key, to_number

DEFAULT_LIMIT = 10_000
_CHECK_EVERY = 4096  # records between two looks at the cancel flag

Record = EventRecord | RowRecord
_RAW_KEYS = (str, Millis, type(None))


class Cancelled(Exception):
    """StopQuery asked the query to stop."""


@dataclass
class Statistics:
    records_matched: float = 0.0
    records_scanned: float = 0.0
    bytes_scanned: float = 0.0

    def to_json(self) -> dict[str, float]:
        return {
            "recordsMatched": float(self.records_matched),
            "recordsScanned": float(self.records_scanned),
            "bytesScanned": float(self.bytes_scanned),
        }


@dataclass
class Result:
    rows: list[list[dict[str, str]]] = field(default_factory=list)
    statistics: Statistics = field(default_factory=Statistics)


def execute(
    query: q.Query,
    events: Iterable[EventRecord],
    limit: int | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> Result:
    statistics = Statistics()
    records = _scan(events, statistics, should_stop)
    projection: list[str] | None = None
    displayed: list[str] | None = None
    limited = False
    matched_counted = False
    aggregated = False  # after stats, records are rows, not events
    added: set[str] = set()  # fields the query set (fields ... as, parse)
    for command in _filters_first(query.commands):
        if should_stop():
            raise Cancelled()
        if isinstance(command, q.Filter):
            assert command.condition is not None
            records = _filter(command.condition, records, None if aggregated else added)
        elif isinstance(command, q.Fields):
            _apply_fields(command, records)
            projection = _extend(projection, [name for name, _ in command.items])
            added.update(name for name, _ in command.items)
        elif isinstance(command, q.Display):
            displayed = list(command.names)
        elif isinstance(command, q.Parse):
            _apply_parse(command, records)
            added.update(command.names)
            if projection is not None:
                projection = _extend(projection, command.names)
        elif isinstance(command, q.Sort):
            records = _sorted(records, command.keys)
        elif isinstance(command, q.Limit):
            matched_counted = _count_matched(statistics, records, matched_counted)
            records = records[: command.count]
            limited = True
        elif isinstance(command, q.Dedup):
            records = _dedup(records, command.names)
        elif isinstance(command, q.Stats):
            matched_counted = _count_matched(statistics, records, matched_counted)
            records = list(_stats(command, records))
            aggregated = True
            projection = [name for name, _ in command.groups] + [
                aggregate.name for aggregate in command.aggregates
            ]
            displayed = None
        else:  # pragma: no cover - the parser builds only the commands above
            raise TypeError(f"no executor for {command.keyword}")
    if not matched_counted:
        statistics.records_matched = len(records)
    if not limited:
        records = records[: limit or DEFAULT_LIMIT]
    return Result(_rows(records, displayed or projection), statistics)


def _count_matched(statistics: Statistics, records: list[Record], counted: bool) -> bool:
    """Records matched are counted before the first limit or stats: once (then: True)."""
    if not counted:
        statistics.records_matched = len(records)
    return True


def _scan(
    events: Iterable[EventRecord], statistics: Statistics, should_stop: Callable[[], bool]
) -> list[Record]:
    """Every event, newest first, counted as Logs Insights counts a scan."""
    records: list[Record] = []
    for count, event in enumerate(events, 1):
        if count % _CHECK_EVERY == 0 and should_stop():
            raise Cancelled()
        records.append(event)
        message = event.message
        statistics.bytes_scanned += len(message) if message.isascii() else len(message.encode())
    statistics.records_scanned = len(records)
    records.sort(key=lambda record: record.timestamp, reverse=True)  # type: ignore[union-attr]
    return records


def _filters_first(commands: list[q.Command]) -> list[q.Command]:
    """Move each filter ahead of the sorts right before it: a stable sort then an
    order-keeping filter give the same rows as the filter then the sort, and sorting the
    few rows a filter keeps is much cheaper (the README query sorts, then filters)."""
    ordered: list[q.Command] = []
    for command in commands:
        position = len(ordered)
        if isinstance(command, q.Filter):
            while position > 0 and isinstance(ordered[position - 1], q.Sort):
                position -= 1
        ordered.insert(position, command)
    return ordered


def _extend(projection: list[str] | None, names: list[str]) -> list[str]:
    combined = list(projection or [])
    combined += [name for name in names if name not in combined]
    return combined


def _filter(condition: Expr, records: list[Record], added: set[str] | None) -> list[Record]:
    evaluate = condition.evaluate
    required = needles(condition, added) if added is not None else None
    if not required:
        return [record for record in records if truthy(evaluate(record))]
    # Events whose raw message cannot match are dropped unparsed (see prefilter.py).
    kept = []
    for record in records:
        message = record.message  # type: ignore[union-attr]
        if "\\" not in message and not any(needle in message for needle in required):
            continue
        if truthy(evaluate(record)):
            kept.append(record)
    return kept


def _apply_fields(command: q.Fields, records: list[Record]) -> None:
    computed = [
        (name, expression.evaluate)
        for name, expression in command.items
        if not (isinstance(expression, Field) and expression.name == name)
    ]
    if not computed:
        return
    for record in records:
        # Evaluate first, then set: `fields a + 1 as a, a * 2 as b` reads the old a twice.
        values = [(name, evaluate(record)) for name, evaluate in computed]
        for name, value in values:
            record.set(name, value)


def _apply_parse(command: q.Parse, records: list[Record]) -> None:
    assert command.pattern is not None
    search = command.pattern.search
    named = bool(command.pattern.groupindex)
    for record in records:
        value = record.get(command.source)
        if value is None:
            continue
        match = search(value if isinstance(value, str) else str(value))
        if match is None:
            continue
        if named:
            for name in command.names:
                record.set(name, match.group(name))
        else:
            for name, value in zip(command.names, match.groups(), strict=True):
                record.set(name, value)


def _sorted(records: list[Record], keys: list[tuple[str, bool]]) -> list[Record]:
    # Successive stable sorts, least significant key first; absent values always last.
    for name, descending in reversed(keys):
        present = [record for record in records if record.get(name) is not None]
        absent = [record for record in records if record.get(name) is None]
        present.sort(key=lambda record, name=name: sort_key(record.get(name)), reverse=descending)  # type: ignore[misc]
        records = present + absent
    return records


def _dedup(records: list[Record], names: list[str]) -> list[Record]:
    """Keep the first record of each combination of values; a record missing one of the
    fields is never a duplicate."""
    seen: set[tuple[Any, ...]] = set()
    kept = []
    for record in records:
        values = tuple(record.get(name) for name in names)
        if any(value is None for value in values):
            kept.append(record)
            continue
        key = tuple(format_value(value) for value in values)
        if key not in seen:
            seen.add(key)
            kept.append(record)
    return kept


def _stats(command: q.Stats, records: list[Record]) -> Iterable[RowRecord]:
    groups: dict[tuple[Any, ...], tuple[list[Any], list[Record]]] = {}
    evaluators = [expression.evaluate for _, expression in command.groups]
    for record in records:
        values = [evaluate(record) for evaluate in evaluators]
        # Values as they print (Insights' values are strings), but times by their number:
        # formatting a time per record would cost more than the grouping.
        key = tuple(value if type(value) in _RAW_KEYS else format_value(value) for value in values)
        entry = groups.get(key)
        if entry is None:
            groups[key] = (values, [record])
        else:
            entry[1].append(record)
    if not command.groups and not groups:
        groups[()] = ([], [])  # stats over no events still answers one row (count 0)
    for values, members in groups.values():
        row: dict[str, Any] = {}
        for (name, _), value in zip(command.groups, values, strict=True):
            row[name] = value
        for aggregate in command.aggregates:
            row[aggregate.name] = _aggregate(aggregate, members)
        yield RowRecord(row)


def _aggregate(aggregate: q.Aggregate, members: list[Record]) -> Any:
    function = aggregate.function
    if aggregate.argument is None:
        return len(members)
    evaluate = aggregate.argument.evaluate
    if function in {"earliest", "latest"}:
        timed = [
            (stamp, value)
            for record in members
            if (value := evaluate(record)) is not None
            and (stamp := record.get("@timestamp")) is not None
        ]
        if not timed:
            return None
        pick = min if function == "earliest" else max
        return pick(timed, key=lambda pair: int(pair[0]))[1]
    values = [value for value in (evaluate(record) for record in members) if value is not None]
    if function in {"sortsfirst", "sortslast"}:
        if not values:
            return None
        return (min if function == "sortsfirst" else max)(values, key=sort_key)
    if function == "count":
        return len(values)
    if function == "count_distinct":
        return len({format_value(value) for value in values})
    numbers = [(number, value) for value in values if (number := to_number(value)) is not None]
    if not numbers:
        return None
    if function == "sum":
        return sum(number for number, _ in numbers)
    if function == "avg":
        return sum(number for number, _ in numbers) / len(numbers)
    if function in {"min", "max"}:
        pick = min if function == "min" else max
        number, value = pick(numbers, key=lambda pair: pair[0])
        return value if isinstance(value, Millis) else number
    if function == "pct":
        ordered = sorted(number for number, _ in numbers)
        rank = max(1, math.ceil(aggregate.percentile / 100 * len(ordered)))
        return ordered[min(rank, len(ordered)) - 1]
    raise ValueError(f"unknown aggregate {function}")  # pragma: no cover


def _rows(records: list[Record], projection: list[str] | None) -> list[list[dict[str, str]]]:
    rows = []
    for record in records:
        if projection is None:
            values = record.all_fields()
        else:
            values = {name: record.get(name) for name in projection}
        if isinstance(record, EventRecord):
            values["@ptr"] = record.get("@ptr")
        rows.append(
            [
                {"field": name, "value": format_value(value)}
                for name, value in values.items()
                if value is not None
            ]
        )
    return rows
