"""An execution's history events, shaped as GetExecutionHistory returns them.

moto's engine records the events as AWS numbers them (checked against the API reference's
HistoryEvent: "Events are numbered sequentially, starting at one"; `previousEventId` is the
event this one follows from, 0 for the first): ids 1..n in the order they happened, under one
lock. What moto's GetExecutionHistory leaves out is the request: it ignores `maxResults`,
`nextToken`, `reverseOrder` and `includeExecutionData`. This module applies them.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from ftb.localcloud.stepfunctions_reads.paging import Page, StatesError, page_size, take_page

# includeExecutionData=false: "whether execution data (input or output of a history event) is
# returned" (API reference). The same keys AWS leaves out of history logs without execution data.
EXECUTION_DATA_KEYS = ("input", "inputDetails", "output", "outputDetails")


def epoch_seconds(value: Any) -> float:
    """A timestamp as the JSON protocol carries it: seconds since the epoch."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, (int, float)):
        return float(value)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def without_execution_data(event: dict[str, Any]) -> dict[str, Any]:
    """The event with the input and output of its details (and their details) left out."""
    shaped = copy.deepcopy(event)
    for key, value in shaped.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            for data_key in EXECUTION_DATA_KEYS:
                value.pop(data_key, None)
    return shaped


def history_page(events: list[dict[str, Any]], request: dict[str, Any]) -> dict[str, Any]:
    """The GetExecutionHistory answer for `events` (moto's, ids ascending) and the request."""
    size = page_size(request.get("maxResults"))
    reverse = _flag(request, "reverseOrder", False)
    include_data = _flag(request, "includeExecutionData", True)
    ordered = sorted(events, key=lambda event: int(event["id"]), reverse=reverse)
    direction = -1 if reverse else 1
    scope = "|".join(
        ("GetExecutionHistory", str(request.get("executionArn")), str(reverse), str(include_data))
    )
    page: Page = take_page(
        ordered,
        lambda event: [direction * int(event["id"])],
        size,
        scope,
        request.get("nextToken"),
    )
    shaped = []
    for event in page.items:
        answer = without_execution_data(event) if not include_data else dict(event)
        answer["timestamp"] = epoch_seconds(answer["timestamp"])
        shaped.append(answer)
    document: dict[str, Any] = {"events": shaped}
    if page.next_token is not None:
        document["nextToken"] = page.next_token
    return document


def _flag(request: dict[str, Any], name: str, default: bool) -> bool:
    value = request.get(name, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise StatesError("SerializationException", f"{name} must be a boolean")
    return value
