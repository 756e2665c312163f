"""What a million tasks would cost on AWS, from the run's own counts and durations.

Prices: us-east-1, on-demand, after free tiers, read on PRICES_READ from the AWS pricing
pages (see docs/performance.md). Counts that the code path fixes (one API request, one
conditional PutItem and one UpdateItem, one SendMessage per accepted task) are constants
here; transitions, invocations, durations and memory come from the run.
"""

from __future__ import annotations

from typing import Any

PRICES_READ = "2026-11-30"
PRICES = {
    "step_functions_per_1k_transitions": 0.025,
    "lambda_per_1m_requests": 0.20,
    "lambda_per_gb_second": 0.0000166667,  # x86
    "sqs_per_1m_requests": 0.40,  # standard queue
    "dynamodb_per_1m_write_units": 0.625,  # on-demand
    "dynamodb_per_1m_read_units": 0.125,
    "api_gateway_rest_per_1m_requests": 3.50,  # first 333 million a month
}
# Per accepted task, fixed by the code path (handlers/submit_task.py, task_domain.records).
API_REQUESTS_PER_TASK = 1
DYNAMODB_WRITES_PER_TASK = 2  # the conditional PutItem that claims the taskId, mark_enqueued
SQS_SENDS_PER_TASK = 1  # submit-task's SendMessage


def per_million(billing: dict[str, Any], failed_share: float) -> dict[str, float]:
    """Dollars per million tasks, by service; `billing` is transitions.measure()'s answer."""
    tasks = max(billing.get("tasks", 0), 1)
    million = 1_000_000
    functions = billing.get("functions", {})
    invocations = sum(f["invocations"] for f in functions.values())
    gb_seconds = sum(
        f["invocations"] * f["mean_billed_ms"] / 1000 * f["memory_mb"] / 1024
        for f in functions.values()
    )
    starter_batches = functions.get("start-execution", {}).get("invocations", 0)
    monitor_batches = functions.get("monitor-dlq", {}).get("invocations", 0)
    # Each batch of an event source mapping: a ReceiveMessage and a DeleteMessageBatch (empty
    # polls between bursts are per mapping and hour, not per task: left out).
    sqs_requests = (
        SQS_SENDS_PER_TASK * tasks
        + billing.get("dead_letter_sends_per_task", failed_share) * tasks
        + 2 * (starter_batches + monitor_batches)
    )
    scale = million / tasks
    lambda_invocations = invocations
    # The API functions ran before the REPORT lines were read: count what the run billed.
    cost = {
        "step_functions": billing["transitions_per_task"]
        * million
        / 1000
        * PRICES["step_functions_per_1k_transitions"],
        "lambda_requests": lambda_invocations * scale / million * PRICES["lambda_per_1m_requests"],
        "lambda_compute": gb_seconds * scale * PRICES["lambda_per_gb_second"],
        "sqs": sqs_requests * scale / million * PRICES["sqs_per_1m_requests"],
        "dynamodb": DYNAMODB_WRITES_PER_TASK * PRICES["dynamodb_per_1m_write_units"],
        "api_gateway": API_REQUESTS_PER_TASK * PRICES["api_gateway_rest_per_1m_requests"],
    }
    cost = {key: round(value, 2) for key, value in cost.items()}
    cost["total"] = round(sum(cost.values()), 2)
    return cost
