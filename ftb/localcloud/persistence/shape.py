"""The template's stateful shape, saved with a snapshot: a snapshot fits a stack only when every
queue, table (with its key schema) and state machine it holds exists in that stack.

A stack may grow between two runs (a new queue starts empty); one that lost or reshaped a
resource holding saved state is refused before anything is loaded, so a snapshot is never
half-loaded. Function code, environments and definitions may change freely.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ftb.localcloud.moto_internals import backends
from ftb.localcloud.persistence import dynamodb


def current(region: str) -> dict[str, Any]:
    """The stateful resources provisioned in this process's moto backends."""
    return {
        "queues": {
            name: {"fifo": bool(queue.fifo_queue)}
            for name, queue in sorted(backends.sqs(region).queues.items())
        },
        "tables": {
            name: dynamodb.key_schema(table)
            for name, table in sorted(backends.dynamodb(region).tables.items())
        },
        "stateMachines": sorted(m.arn for m in backends.stepfunctions(region).state_machines),
    }


def fingerprint(shape: dict[str, Any]) -> str:
    canonical = json.dumps(shape, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(canonical).hexdigest()[:16]


def mismatches(saved: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """Why a snapshot of `saved`'s shape does not fit a stack of shape `now` (empty: it fits)."""
    problems = []
    for name, queue in saved["queues"].items():
        if name not in now["queues"]:
            problems.append(f"queue {name} is no longer in the template")
        elif now["queues"][name]["fifo"] != queue["fifo"]:
            problems.append(f"queue {name} changed between standard and FIFO")
    for name, schema in saved["tables"].items():
        if name not in now["tables"]:
            problems.append(f"table {name} is no longer in the template")
        elif now["tables"][name] != schema:
            problems.append(
                f"table {name} changed its key ({', '.join(schema)} -> "
                f"{', '.join(now['tables'][name])})"
            )
    for arn in saved["stateMachines"]:
        if arn not in now["stateMachines"]:
            problems.append(f"state machine {arn.rsplit(':', 1)[-1]} is no longer in the template")
    return problems
