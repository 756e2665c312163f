"""The overview: tasks by status over time, throughput, dead letters, alarms and queues.

Counts come from the task index (the same true statuses as the tasks page and `ftb tasks`);
the alarms from CloudWatch DescribeAlarms (the stack names its alarms `{stack}-...`,
infra/constructs/alarms.py); the queue depths from SQS GetQueueAttributes. An endpoint that
refuses a call is shown as such, with its error, never as an empty list.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ftb.ops.console.task_index import TaskIndex, TaskRow
from ftb.ops.target import DEAD_LETTER_QUEUE_URL, TASK_QUEUE_URL, Target
from task_domain.models import iso, utc_now

BUCKETS = 30
_QUEUE_ATTRIBUTES = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
]


def status_at(row: TaskRow, moment: datetime) -> str | None:
    """What the task was at `moment` (None: not yet submitted)."""
    if row.submitted_at is None or row.submitted_at > moment:
        return None
    if row.stop_date is not None and row.stop_date <= moment:
        return row.status if row.status in ("SUCCEEDED", "FAILED") else "FAILED"
    if row.start_date is not None and row.start_date <= moment:
        return "RUNNING"
    return "QUEUED"


def series(rows: list[TaskRow], now: datetime, window: timedelta) -> dict[str, Any]:
    """Tasks by status at BUCKETS moments over `window` up to now."""
    step = window / BUCKETS
    moments = [now - window + step * (index + 1) for index in range(BUCKETS)]
    statuses = ("QUEUED", "RUNNING", "SUCCEEDED", "FAILED")
    counts = {status: [0] * BUCKETS for status in statuses}
    recent = [row for row in rows if row.submitted_at is not None and row.submitted_at <= now]
    for row in recent:
        for index, moment in enumerate(moments):
            status = status_at(row, moment)
            if status is not None:
                counts[status][index] += 1
    return {"times": [moment.timestamp() for moment in moments], "counts": counts}


def throughput(rows: list[TaskRow], now: datetime, window: timedelta) -> dict[str, float]:
    since = now - window
    minutes = window.total_seconds() / 60
    submitted = sum(1 for row in rows if row.submitted_at is not None and row.submitted_at >= since)
    finished = [row for row in rows if row.stop_date is not None and row.stop_date >= since]
    return {
        "windowMinutes": minutes,
        "submittedPerMinute": round(submitted / minutes, 2),
        "finishedPerMinute": round(len(finished) / minutes, 2),
        "succeededPerMinute": round(
            sum(1 for row in finished if row.status == "SUCCEEDED") / minutes, 2
        ),
        "failedPerMinute": round(sum(1 for row in finished if row.status == "FAILED") / minutes, 2),
    }


def _refusal(exc: Exception) -> dict[str, str]:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return {"code": str(error.get("Code", "")), "message": str(error.get("Message", ""))}
    return {"code": type(exc).__name__, "message": str(exc)}


def alarms(target: Target) -> dict[str, Any]:
    """The stack's alarms and their states, or the endpoint's refusal."""
    try:
        cloudwatch = target.client("cloudwatch")
        found = []
        kwargs: dict[str, Any] = {
            "AlarmNamePrefix": f"{target.name}-",
            "AlarmTypes": ["MetricAlarm", "CompositeAlarm"],
        }
        while True:
            page = cloudwatch.describe_alarms(**kwargs)
            for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
                updated = alarm.get("StateUpdatedTimestamp")
                found.append(
                    {
                        "name": alarm.get("AlarmName"),
                        "state": alarm.get("StateValue"),
                        "reason": alarm.get("StateReason"),
                        "description": alarm.get("AlarmDescription"),
                        "updated": iso(updated) if isinstance(updated, datetime) else None,
                    }
                )
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
    except (ClientError, BotoCoreError) as exc:
        return {"refused": _refusal(exc), "alarms": []}
    return {"alarms": sorted(found, key=lambda alarm: str(alarm["name"]))}


def queues(target: Target) -> list[dict[str, Any]]:
    sqs = target.client("sqs")
    found = []
    for label, key in (
        ("task queue", TASK_QUEUE_URL),
        ("dead-letter queue", DEAD_LETTER_QUEUE_URL),
    ):
        url = target.outputs.get(key)
        if not url:
            continue
        entry: dict[str, Any] = {"queue": label, "url": url}
        try:
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=_QUEUE_ATTRIBUTES)
            values = attributes.get("Attributes", {})
            entry["visible"] = int(values.get("ApproximateNumberOfMessages", 0))
            entry["inFlight"] = int(values.get("ApproximateNumberOfMessagesNotVisible", 0))
            entry["delayed"] = int(values.get("ApproximateNumberOfMessagesDelayed", 0))
        except (ClientError, BotoCoreError) as exc:
            entry["refused"] = _refusal(exc)
        found.append(entry)
    return found


def overview(target: Target, index: TaskIndex, window: timedelta) -> dict[str, Any]:
    rows, age = index.rows()
    now = utc_now()
    counts = {status: 0 for status in ("QUEUED", "RUNNING", "SUCCEEDED", "FAILED")}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    return {
        "stack": target.name,
        "target": target.description,
        "total": len(rows),
        "counts": counts,
        "deadLetters": counts["FAILED"],
        "series": series(rows, now, window),
        "throughput": throughput(rows, now, min(window, timedelta(minutes=5))),
        "alarms": alarms(target),
        "queues": queues(target),
        "snapshotAgeSeconds": round(age, 3),
        "now": iso(now),
    }
