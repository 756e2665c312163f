"""One log event as Insights sees it: system fields, fields discovered in the message, and
fields a query adds (`fields ... as`, `parse`).

Discovery (CWL_AnalyzeLogData-discoverable-fields): every event has @timestamp, @message,
@ingestionTime, @logStream and @log (`account-id:log-group-name`); a JSON object message
gives its keys as fields, nested keys joined with dots and list items by index
(`error.type`, `items.0`); Lambda's START/END/REPORT lines give @type, @requestId and the
REPORT figures (@duration, @billedDuration in ms; @memorySize, @maxMemoryUsed in bytes).
Discovery is lazy: a query that reads only @message never parses JSON.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from ftb.localcloud.logs_insights.values import Millis

SYSTEM_FIELDS = ("@timestamp", "@message", "@logStream", "@log", "@ingestionTime")
_MAX_DISCOVERED = 1000  # guard against pathological messages

_LAMBDA_LINE = re.compile(r"^(START|END|REPORT) RequestId: ([0-9A-Za-z-]+)")
_REPORT_FIGURES = {
    "Duration": ("@duration", 1.0),
    "Billed Duration": ("@billedDuration", 1.0),
    "Init Duration": ("@initDuration", 1.0),
    "Memory Size": ("@memorySize", 1_000_000.0),
    "Max Memory Used": ("@maxMemoryUsed", 1_000_000.0),
}


def flatten(value: Any, prefix: str, into: dict[str, Any]) -> None:
    if len(into) >= _MAX_DISCOVERED:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            flatten(item, f"{prefix}.{key}" if prefix else str(key), into)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            flatten(item, f"{prefix}.{index}" if prefix else str(index), into)
    elif value is not None and prefix:
        into[prefix] = value


def discover(message: str) -> dict[str, Any]:
    """The fields Insights discovers in a message (JSON keys or a Lambda platform line)."""
    found: dict[str, Any] = {}
    text = message.lstrip()
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            flatten(parsed, "", found)
            return found
    match = _LAMBDA_LINE.match(text)
    if match is not None:
        found["@type"] = match[1]
        found["@requestId"] = match[2]
        if match[1] == "REPORT":
            for label, number, _unit in re.findall(r"([A-Za-z ]+): ([\d.]+) (ms|MB)", text):
                figure = _REPORT_FIGURES.get(label.strip())
                if figure is not None:
                    amount = float(number) * figure[1]
                    found[figure[0]] = int(amount) if amount.is_integer() else amount
    return found


def pointer(group: str, stream: str, index: int) -> str:
    """An opaque @ptr (GetLogRecord takes it back)."""
    raw = json.dumps([group, stream, index], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_pointer(ptr: str) -> tuple[str, str, int] | None:
    try:
        raw = base64.urlsafe_b64decode(ptr + "=" * (-len(ptr) % 4))
        group, stream, index = json.loads(raw)
    except (ValueError, TypeError):
        return None
    if not (isinstance(group, str) and isinstance(stream, str) and isinstance(index, int)):
        return None
    return group, stream, index


class EventRecord:
    """A log event: `get(name)` answers system, discovered and added fields."""

    __slots__ = (
        "_added",
        "_discovered",
        "group",
        "index",
        "ingestion",
        "log",
        "message",
        "stream",
        "timestamp",
    )

    def __init__(
        self,
        timestamp: int,
        message: str,
        ingestion: int,
        group: str,
        log: str,
        stream: str,
        index: int,
    ) -> None:
        self.timestamp = timestamp
        self.message = message
        self.ingestion = ingestion
        self.group = group
        self.log = log
        self.stream = stream
        self.index = index
        self._discovered: dict[str, Any] | None = None
        self._added: dict[str, Any] | None = None

    def get(self, name: str) -> Any:
        if self._added is not None and name in self._added:
            return self._added[name]
        if name == "@message":
            return self.message
        if name == "@timestamp":
            return Millis(self.timestamp)
        if name == "@logStream":
            return self.stream
        if name == "@log":
            return self.log
        if name == "@ingestionTime":
            return Millis(self.ingestion)
        if name == "@ptr":
            return pointer(self.group, self.stream, self.index)
        return self.discovered().get(name)

    def set(self, name: str, value: Any) -> None:
        if self._added is None:
            self._added = {}
        self._added[name] = value

    def discovered(self) -> dict[str, Any]:
        if self._discovered is None:
            self._discovered = discover(self.message)
        return self._discovered

    def all_fields(self) -> dict[str, Any]:
        """Every field, system ones first (what a query without `fields` returns)."""
        everything: dict[str, Any] = {name: self.get(name) for name in SYSTEM_FIELDS}
        everything.update(self.discovered())
        if self._added:
            everything.update(self._added)
        return everything


class RowRecord:
    """A row a `stats` command made: only the fields it holds."""

    __slots__ = ("values",)

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def set(self, name: str, value: Any) -> None:
        self.values[name] = value

    def all_fields(self) -> dict[str, Any]:
        return dict(self.values)
