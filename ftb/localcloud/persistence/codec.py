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


def dumps(document: Any) -> bytes:
    return json.dumps(document, default=_default, separators=(",", ":")).encode("utf-8")


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
