"""process-task: the handler with the workflow's event, as Lambda would run it."""

from __future__ import annotations

import pytest

import process_task
from task_domain.errors import PermanentTaskError, TransientTaskError
from task_domain.models import payload_digest


def test_a_task_is_processed(monkeypatch, events, lambda_context, log_records):
    # Given no simulated failures
    monkeypatch.setenv("FAILURE_RATE", "0")
    event = events("process_task.json")
    # When the workflow invokes process-task for the first attempt
    result = process_task.handler(event, lambda_context)
    # Then it returns the result the execution's output becomes
    assert result["taskId"] == "task-001"
    assert result["payloadDigest"] == payload_digest(event["payload"])
    assert result["attempt"] == 1
    assert result["processedAt"].endswith("Z")
    # And its log records carry the taskId, execution and attempt
    (done,) = [r for r in log_records() if r["message"] == "Task processed"]
    assert (done["taskId"], done["attempt"]) == ("task-001", 1)
    assert done["executionArn"] == event["executionArn"]


def test_the_attempt_is_one_based(monkeypatch, events, lambda_context):
    # Given the workflow's third attempt ($$.State.RetryCount = 2)
    monkeypatch.setenv("FAILURE_RATE", "0")
    event = events("process_task.json") | {"attempt": 2}
    # When process-task runs
    # Then the result says attempt 3
    assert process_task.handler(event, lambda_context)["attempt"] == 3


def test_transient_failure_is_raised_with_its_error_name(monkeypatch, events, lambda_context):
    # Given every attempt failing transiently
    monkeypatch.setenv("FAILURE_RATE", "1")
    # When process-task runs
    # Then TransientTaskError propagates (Lambda reports the class name as the error type)
    with pytest.raises(TransientTaskError) as raised:
        process_task.handler(events("process_task.json"), lambda_context)
    assert type(raised.value).__name__ == "TransientTaskError"


def test_permanent_failure_for_ids_ending_in_3(monkeypatch, events, lambda_context, log_records):
    # Given a task whose id ends in 3, and no transient failures
    monkeypatch.setenv("FAILURE_RATE", "0")
    event = events("process_task.json") | {"taskId": "task-013"}
    # When process-task runs
    # Then PermanentTaskError propagates, and the failure is logged with the taskId
    with pytest.raises(PermanentTaskError):
        process_task.handler(event, lambda_context)
    (failed,) = [r for r in log_records() if r["message"] == "Task failed"]
    assert (failed["taskId"], failed["error"]) == ("task-013", "PermanentTaskError")


def test_seeded_runs_replay(monkeypatch, events, lambda_context):
    # Given a seed and a 50 % failure rate
    monkeypatch.setenv("FAILURE_RATE", "0.5")
    monkeypatch.setenv("FAILURE_SEED", "replay")

    def outcomes() -> list[str]:
        results = []
        for attempt in range(3):
            for number in range(10):
                event = events("process_task.json") | {
                    "taskId": f"task-{number}0",
                    "attempt": attempt,
                }
                try:
                    process_task.handler(event, lambda_context)
                    results.append("ok")
                except TransientTaskError:
                    results.append("transient")
        return results

    # When the same tasks and attempts run twice
    first, second = outcomes(), outcomes()
    # Then the outcomes are identical, and both kinds occur
    assert first == second
    assert {"ok", "transient"} == set(first)


def test_a_malformed_event_fails_loudly(monkeypatch, lambda_context):
    # Given an event without a payload
    # When process-task runs
    # Then it raises rather than processing nothing
    with pytest.raises(ValueError, match="payload"):
        process_task.handler({"taskId": "task-001", "attempt": 0}, lambda_context)
