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


def parse_json(message: str) -> dict[str, Any] | None:
    """The message as a JSON object, or None when it is not one."""
    text = message.lstrip()
    if not text.startswith("{"):
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def lookup(document: dict[str, Any], name: str) -> Any:
    """A discovered field of a JSON object: `a.b.0` walks nested objects and lists."""
    if name in document:
        value = document[name]
        return None if isinstance(value, dict | list) else value
    if "." not in name:
        return None
    node: Any = document
    for part in name.split("."):
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return None if isinstance(node, dict | list) else node


def lambda_fields(message: str) -> dict[str, Any]:
    """What Insights discovers in Lambda's START/END/REPORT lines."""
    match = _LAMBDA_LINE.match(message)
    if match is None:
        return {}
    found: dict[str, Any] = {"@type": match[1], "@requestId": match[2]}
    if match[1] == "REPORT":
        for part in message.split("\t")[1:]:
            label, _, figure = part.partition(": ")
            spec = _REPORT_FIGURES.get(label.strip())
            amount = figure.split(" ", 1)[0]
            if spec is None or not amount.replace(".", "", 1).isdigit():
                continue
            scaled = float(amount) * spec[1]
            found[spec[0]] = int(scaled) if scaled.is_integer() else scaled
    return found


def discover(message: str) -> dict[str, Any]:
    """Every field Insights discovers in a message (JSON keys or a Lambda platform line)."""
    document = parse_json(message)
    if document is not None:
        found: dict[str, Any] = {}
        flatten(document, "", found)
        return found
    return lambda_fields(message.lstrip())


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
        "_json",
        "_platform",
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
        self._json: dict[str, Any] | bool | None = False  # False: not parsed yet
        self._platform: dict[str, Any] | None = None
        self._added: dict[str, Any] | None = None

    def get(self, name: str) -> Any:
        if self._added is not None and name in self._added:
            return self._added[name]
        if name[:1] == "@":
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
        document = self._json
        if document is False:
            document = self._json = parse_json(self.message)
        if document is not None:
            return lookup(document, name)  # type: ignore[arg-type]
        if name.startswith("@"):
            if self._platform is None:
                self._platform = lambda_fields(self.message.lstrip())
            return self._platform.get(name)
        return None

    def set(self, name: str, value: Any) -> None:
        if self._added is None:
            self._added = {}
        self._added[name] = value

    def discovered(self) -> dict[str, Any]:
        return discover(self.message)

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
