"""The error types: their names are the contract with the workflow's Retry and Catch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from task_domain.errors import (
    MAX_ERROR_MESSAGE_CHARS,
    PERMANENT_ERROR_NAME,
    TRANSIENT_ERROR_NAME,
    PermanentTaskError,
    TaskError,
    TransientTaskError,
)

ASL = Path(__file__).resolve().parents[2] / "statemachine" / "task_workflow.asl.json"


def _process_task_state() -> dict:
    return json.loads(ASL.read_text(encoding="utf-8"))["States"]["ProcessTask"]


def test_error_names_are_the_class_names():
    # Lambda reports the exception class name as errorType: that is the Step Functions error.
    assert TRANSIENT_ERROR_NAME == "TransientTaskError"
    assert PERMANENT_ERROR_NAME == "PermanentTaskError"


@pytest.mark.parametrize("error_type", [TransientTaskError, PermanentTaskError])
def test_both_are_task_errors(error_type):
    assert issubclass(error_type, TaskError)
    assert issubclass(error_type, Exception)


def test_the_two_kinds_are_distinct():
    # A permanent error must never be caught as a transient one, nor the reverse.
    assert not issubclass(PermanentTaskError, TransientTaskError)
    assert not issubclass(TransientTaskError, PermanentTaskError)


def test_messages_are_bounded():
    # Given a huge message
    # When an error is raised with it
    error = TransientTaskError("x" * (MAX_ERROR_MESSAGE_CHARS * 3))
    # Then the message is cut to the bound (it ends in the DLQ message)
    assert len(str(error)) == MAX_ERROR_MESSAGE_CHARS


def test_the_workflow_retries_transient_errors_only():
    # Given the workflow's ProcessTask state
    rules = _process_task_state()["Retry"]
    retried = {name for rule in rules if rule["MaxAttempts"] > 0 for name in rule["ErrorEquals"]}
    # Then it retries TransientTaskError, never PermanentTaskError (which the first retrier
    # matches with no attempt: retriers are tried in order)
    assert TRANSIENT_ERROR_NAME in retried
    assert PERMANENT_ERROR_NAME not in retried
    assert rules[0] == {"ErrorEquals": [PERMANENT_ERROR_NAME], "MaxAttempts": 0}
    assert "States.ALL" not in retried
