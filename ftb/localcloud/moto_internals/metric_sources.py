"""What the local CloudWatch (cloudwatch/collectors.py) reads of moto's internals, because
moto's APIs do not answer it: SQS's age of the oldest message, Step Functions' executions as
they end. The targets are checked at start with the rest (registry.READS).

In process only: the local endpoint's moto backends live in this interpreter.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class QueueSample:
    visible: int
    oldest_age_seconds: float | None  # None: the queue is empty


def queue_sample(arn: str) -> QueueSample | None:
    """Visible messages and the age of the oldest non-deleted message (in flight included, as
    SQS's ApproximateAgeOfOldestMessage); None when the queue is gone."""
    from moto.sqs.models import sqs_backends

    _, _, _, region, account, name = arn.split(":", 5)
    queue = sqs_backends[account][region].queues.get(name)
    if queue is None:
        return None
    with queue._messages_lock:
        messages = list(queue._messages)
    visible = sum(1 for m in messages if m.visible and not m.delayed)
    stamps = (getattr(m, "sent_timestamp", None) for m in messages)
    sent = [float(stamp) for stamp in stamps if stamp is not None]
    age = (time.time() * 1000 - min(sent)) / 1000 if sent else None
    return QueueSample(visible, max(age, 0.0) if age is not None else None)


@dataclass(frozen=True)
class ExecutionRecord:
    arn: str
    status: str
    started: float
    stopped: float | None


def _epoch(value: Any) -> float | None:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, (int, float)):
        return float(value)
    return None


def _status(execution: Any) -> str:
    try:
        return str(execution.status)
    except AttributeError:  # the engine's execution before its status is set
        return "RUNNING"


def executions(state_machine_arn: str) -> Iterator[ExecutionRecord]:
    """The state machine's executions, oldest first (moto appends them as they start)."""
    from moto.stepfunctions.responses import get_backend  # the engine's, when it executes

    parts = state_machine_arn.split(":")
    backend = get_backend(parts[4], parts[3])
    try:
        machine = backend.describe_state_machine(state_machine_arn)
    except Exception:  # gone (a hot reload replaced it)
        return
    for execution in list(machine.executions):
        started = _epoch(getattr(execution, "start_date", None))
        if started is None:
            continue
        yield ExecutionRecord(
            execution.execution_arn,
            _status(execution),
            started,
            _epoch(getattr(execution, "stop_date", None)),
        )
