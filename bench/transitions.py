"""What AWS would bill, counted from the run itself: state transitions from the executions'
real histories, and each function's invocations, billed duration and memory from the REPORT
lines the runtime wrote to its log group."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.cloud import BenchCloud

_REPORT = re.compile(r"Billed Duration: (?P<billed>\d+) ms\s+Memory Size: (?P<memory>\d+) MB")


def design_minimum(failure_rate: float) -> float:
    """Transitions per task of the workflow at a transient failure rate p, with no permanent
    failures: ProcessTask (1), a retry after each failed attempt but the last (p + p^2), and
    SendToDeadLetterQueue + TaskFailed when all three attempts fail (2 p^3). 1.444 at 0.3."""
    p = failure_rate
    return 1 + p + p**2 + 2 * p**3


def billed_transitions(events: list[dict[str, Any]]) -> dict[str, int]:
    """Step Functions Standard bills each state entered and each retry of a Task state."""
    entered = sum(1 for e in events if e["type"].endswith("StateEntered"))
    task_states = sum(1 for e in events if e["type"] == "TaskStateEntered")
    scheduled = [e for e in events if e["type"] == "TaskScheduled"]
    lambda_calls = sum(
        1
        for e in scheduled
        if e.get("taskScheduledEventDetails", {}).get("resourceType") == "lambda"
    )
    sqs_sends = sum(
        1 for e in scheduled if e.get("taskScheduledEventDetails", {}).get("resourceType") == "sqs"
    )
    retries = len(scheduled) - task_states
    return {
        "transitions": entered + retries,
        "lambda_invocations": lambda_calls,
        "sqs_sends": sqs_sends,
    }


def _history(sfn: Any, arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
        events.extend(page["events"])
    return events


def function_reports(cloud: BenchCloud) -> dict[str, dict[str, float]]:
    """Per function: invocations, mean billed ms and memory, from its REPORT lines."""
    logs = cloud.client("logs")
    figures: dict[str, dict[str, float]] = {}
    prefix = f"{cloud.state['stackName']}-"
    for name in cloud.state["functions"].values():
        billed: list[int] = []
        memory = 0
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=f"/aws/lambda/{name}", filterPattern="REPORT"
        )
        for page in pages:
            for event in page["events"]:
                match = _REPORT.search(event["message"])
                if match:
                    billed.append(int(match["billed"]))
                    memory = int(match["memory"])
        figures[name.removeprefix(prefix)] = {
            "invocations": len(billed),
            "mean_billed_ms": round(sum(billed) / len(billed), 2) if billed else 0.0,
            "memory_mb": memory,
        }
    return figures


def measure(
    cloud: BenchCloud, arns: list[str], failure_rate: float, sample: int | None = None
) -> dict[str, Any]:
    chosen = arns if sample is None else arns[:sample]
    sfn = cloud.client("stepfunctions")
    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = list(pool.map(lambda arn: billed_transitions(_history(sfn, arn)), chosen))
    read = max(len(counts), 1)
    return {
        "histories_read": len(counts),
        "transitions_per_task": round(sum(c["transitions"] for c in counts) / read, 3),
        "design_minimum": round(design_minimum(failure_rate), 3),
        "process_invocations_per_task": round(
            sum(c["lambda_invocations"] for c in counts) / read, 3
        ),
        "dead_letter_sends_per_task": round(sum(c["sqs_sends"] for c in counts) / read, 3),
        "functions": function_reports(cloud),
        "tasks": len(arns),
    }
