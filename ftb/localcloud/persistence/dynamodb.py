"""DynamoDB: every table's items (in DynamoDB's JSON, as PutItem takes them)."""

from __future__ import annotations

from typing import Any

from ftb.localcloud.persistence import backends


def capture(region: str) -> dict[str, Any]:
    backend = backends.dynamodb(region)
    tables = {}
    for name, table in list(backend.tables.items()):
        items = [item.to_json()["Attributes"] for item in table.all_items()]
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
            table.put_item(attributes)
            restored += 1
    return restored
