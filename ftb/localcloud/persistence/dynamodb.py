"""DynamoDB: every table's items (in DynamoDB's JSON, as PutItem takes them)."""

from __future__ import annotations

import base64
from typing import Any

from ftb.localcloud.moto_internals import backends


def capture(region: str) -> dict[str, Any]:
    backend = backends.dynamodb(region)
    tables = {}
    for name, table in list(backend.tables.items()):
        items = [_binary_out(item.to_json()["Attributes"]) for item in table.all_items()]
        tables[name] = {"keySchema": key_schema(table), "items": items}
    return {"tables": tables}


def key_schema(table: Any) -> list[str]:
    """`["taskId:HASH", ...]`: what makes a saved item fit a table."""
    return [f"{key['AttributeName']}:{key['KeyType']}" for key in table.schema]


def item_count(document: dict[str, Any]) -> int:
    return sum(len(table["items"]) for table in document["tables"].values())


def restore(document: dict[str, Any], region: str) -> int:
    backend = backends.dynamodb(region)
    restored = 0
    for name, saved in document["tables"].items():
        table = backend.get_table(name)
        for attributes in saved["items"]:
            table.put_item(_binary_in(attributes))
            restored += 1
    return restored


# Binary values (B, BS) are bytes in moto's items: base64 text in a snapshot, as on the wire.
def _binary_out(attributes: dict[str, Any]) -> dict[str, Any]:
    return {name: _value(value, _encode) for name, value in attributes.items()}


def _binary_in(attributes: dict[str, Any]) -> dict[str, Any]:
    return {name: _value(value, _decode) for name, value in attributes.items()}


def _encode(data: Any) -> Any:
    return base64.b64encode(data).decode("ascii") if isinstance(data, bytes) else data


def _decode(text: Any) -> Any:
    return base64.b64decode(text) if isinstance(text, str) else text


def _value(value: dict[str, Any], convert: Any) -> dict[str, Any]:
    ((kind, data),) = value.items()
    if kind == "B":
        return {kind: convert(data)}
    if kind == "BS":
        return {kind: [convert(d) for d in data]}
    if kind == "M":
        return {kind: {k: _value(v, convert) for k, v in data.items()}}
    if kind == "L":
        return {kind: [_value(v, convert) for v in data]}
    return value
