"""JSON for snapshots, parsed without a per-object hook (a hook makes loading a 20 MB snapshot
several times slower). The service modules convert what JSON cannot hold where they know it
is: dates (`date_out`/`date_in`) and DynamoDB binary values (dynamodb.py)."""

from __future__ import annotations

import enum
import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any


def _default(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):  # a date in a place no module converts: kept readable
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    raise TypeError(f"cannot save a {type(value).__name__} in a snapshot")


_CHUNK_DEPTH = 7  # down to single executions and log events in a snapshot's layout


class Frozen(dict[str, Any]):
    """A part of a capture that never changes again (an ended execution with its history):
    encoded once, at the first save that holds it, and reused by every later checkpoint. At
    2,000 tasks, encoding the same ended executions again was most of each checkpoint."""

    encoded: str | None = None


def dumps(document: Any) -> bytes:
    """Encoded piece by piece: json's C encoder holds the GIL for a whole call, and one call
    on a 20 MB snapshot would stall the endpoint's threads for the length of it; between
    pieces, other threads run."""
    return "".join(_pieces(document, _CHUNK_DEPTH)).encode("utf-8")


def _pieces(value: Any, depth: int) -> Iterator[str]:
    if isinstance(value, Frozen):
        if value.encoded is None:
            value.encoded = "".join(_pieces(dict(value), depth))
        yield value.encoded
    elif depth and isinstance(value, dict) and value:
        yield "{"
        for index, (key, item) in enumerate(value.items()):
            yield ("," if index else "") + json.dumps(str(key)) + ":"
            yield from _pieces(item, depth - 1)
        yield "}"
    elif depth and isinstance(value, list) and value:
        yield "["
        for index, item in enumerate(value):
            if index:
                yield ","
            yield from _pieces(item, depth - 1)
        yield "]"
    else:
        yield json.dumps(value, default=_default, separators=(",", ":"))


@contextmanager
def without_gc() -> Iterator[None]:
    """Parsing a snapshot and rebuilding moto's objects allocate millions of small objects:
    every burst would start a cyclic GC pass over a heap that already holds moto and botocore
    (10x slower loads measured). Nothing built here forms garbage cycles worth collecting."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def loads(data: bytes) -> Any:
    with without_gc():
        return json.loads(data)


def date_out(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def date_in(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None
