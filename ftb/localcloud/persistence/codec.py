"""JSON for snapshots: datetimes and bytes (moto keeps both) survive a round trip."""

from __future__ import annotations

import base64
import enum
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

_DATETIME = "__datetime__"
_BYTES = "__bytes__"
_DECIMAL = "__decimal__"


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return {_DATETIME: value.isoformat()}
    if isinstance(value, bytes | bytearray):
        return {_BYTES: base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, Decimal):
        return {_DECIMAL: str(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    raise TypeError(f"cannot save a {type(value).__name__} in a snapshot")


def _hook(document: dict[str, Any]) -> Any:
    if len(document) == 1:
        if _DATETIME in document:
            return datetime.fromisoformat(document[_DATETIME])
        if _BYTES in document:
            return base64.b64decode(document[_BYTES])
        if _DECIMAL in document:
            return Decimal(document[_DECIMAL])
    return document


def dumps(document: Any) -> bytes:
    return json.dumps(document, default=_default, separators=(",", ":")).encode("utf-8")


def loads(data: bytes) -> Any:
    return json.loads(data, object_hook=_hook)
