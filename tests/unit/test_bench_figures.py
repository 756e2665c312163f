"""The benchmark's arithmetic: percentiles, billed transitions from a history, the design
minimum, the cost per million tasks, and how the runner calls a section's measure()."""

from __future__ import annotations

from typing import Any

import pytest

from bench import cost
from bench.runner import call_with_known_arguments, ratios
from bench.stats import per_second, percentile
from bench.transitions import billed_transitions, design_minimum


def _event(kind: str, resource: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {"type": kind}
    if resource is not None:
        event["taskScheduledEventDetails"] = {"resourceType": resource}
    return event


def test_percentiles_are_nearest_rank() -> None:
    # Given 1..100 / When / Then p50 is 50, p95 is 95, p99 is 99; nothing gives 0
    values = [float(n) for n in range(1, 101)]
    assert [percentile(values, q) for q in (0.5, 0.95, 0.99)] == [50.0, 95.0, 99.0]
    assert percentile([], 0.5) == 0.0
    assert percentile([7.0], 0.99) == 7.0


def test_per_second_buckets_count_what_falls_in_each_second() -> None:
    assert per_second([10.1, 10.9, 11.2, 13.0], 10.0) == [2, 1, 0, 1]


def test_a_task_that_succeeds_at_once_bills_one_transition() -> None:
    # Given the history of a task that succeeded on its first attempt
    history = [
        _event("ExecutionStarted"),
        _event("TaskStateEntered"),
        _event("TaskScheduled", "lambda"),
        _event("TaskSucceeded"),
        _event("TaskStateExited"),
        _event("ExecutionSucceeded"),
    ]
    # When it is counted / Then one transition, one invocation, no dead letter
    assert billed_transitions(history) == {
        "transitions": 1,
        "lambda_invocations": 1,
        "sqs_sends": 0,
    }


def test_retries_and_the_dead_letter_path_are_billed() -> None:
    # Given three failed attempts, then SendToDeadLetterQueue and the Fail state
    history = [_event("ExecutionStarted"), _event("TaskStateEntered")]
    history += [_event("TaskScheduled", "lambda"), _event("TaskFailed")] * 3
    history += [_event("TaskStateEntered"), _event("TaskScheduled", "sqs")]
    history += [_event("FailStateEntered"), _event("ExecutionFailed")]
    # When it is counted / Then 3 states entered + 2 retries
    assert billed_transitions(history) == {
        "transitions": 5,
        "lambda_invocations": 3,
        "sqs_sends": 1,
    }


def test_the_design_minimum_at_30_percent_is_1_444() -> None:
    assert design_minimum(0.3) == pytest.approx(1.444)
    assert design_minimum(0.0) == 1.0


def test_cost_per_million_tasks_from_a_run() -> None:
    # Given a run of 1,000 tasks at one transition each, with its functions' REPORT figures
    billing = {
        "tasks": 1000,
        "transitions_per_task": 1.0,
        "dead_letter_sends_per_task": 0.0,
        "functions": {
            "submit-task": {"invocations": 1000, "mean_billed_ms": 100.0, "memory_mb": 512},
            "start-execution": {"invocations": 100, "mean_billed_ms": 200.0, "memory_mb": 256},
            "process-task": {"invocations": 1000, "mean_billed_ms": 2.0, "memory_mb": 256},
        },
    }
    # When the cost per million tasks is computed
    dollars = cost.per_million(billing, 0.0)
    # Then each line follows from the prices (1,000 transitions = $0.025; 2.1 requests a task)
    assert dollars["step_functions"] == 25.0
    assert dollars["lambda_requests"] == pytest.approx(0.42)
    # 1,000 x 0.1 s x 0.5 GB + 100 x 0.2 s x 0.25 GB + 1,000 x 0.002 s x 0.25 GB = 55.5 GB-s
    assert dollars["lambda_compute"] == pytest.approx(55.5 * 1000 * 0.0000166667, abs=0.01)
    assert dollars["sqs"] == pytest.approx((1000 + 200) * 1000 / 1e6 * 0.40, abs=0.01)
    assert dollars["api_gateway"] == 3.5 and dollars["dynamodb"] == 1.25
    assert dollars["total"] == pytest.approx(sum(v for k, v in dollars.items() if k != "total"))


def test_a_section_gets_only_the_arguments_it_names() -> None:
    # Given sections written by others, each naming what it needs
    def wants_quick(quick: bool) -> dict[str, Any]:
        return {"quick": quick}

    def wants_everything(**kwargs: Any) -> dict[str, Any]:
        return kwargs

    offered = {"quick": True, "tasks": 10, "root": "/repo"}
    # When / Then
    assert call_with_known_arguments(wants_quick, offered) == {"quick": True}
    assert call_with_known_arguments(wants_everything, offered) == offered


def test_ratios_to_the_bare_engine() -> None:
    local = {"tasks_per_second": 30.0, "drain_seconds": 20.0, "latency_p50_s": 1.0}
    bare = {"tasks_per_second": 40.0, "drain_seconds": 10.0, "latency_p50_s": 0.0}
    assert ratios(local, bare) == {
        "tasks_per_second": 0.75,
        "drain_seconds": 2.0,
        "latency_p50_s": None,
        "latency_p95_s": None,
    }
