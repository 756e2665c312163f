"""ftb's copies of handler code stay equal to the originals, so they can never drift apart.

ftb cannot import the handlers' `shared.*` modules under that name (the Lambda code root is
handlers/ itself), so a few small helpers live twice; these tests compare each pair.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

import monitor_dlq
from ftb.ops.commands import _tasks, redrive
from ftb.ops.output import CommandError
from infra import names
from shared import task_status
from shared.models import TASK_RECORD_TTL_DAYS, WorkflowInput, payload_digest

PAYLOADS: list[dict[str, Any]] = [
    {},
    {"customer": "acme", "amount": 42},
    {"b": 1, "a": [3, 2, {"z": None, "y": True}]},  # keys sorted at every level
    {"text": 'tâche 😀 \u2028 "quoted" \\ back', "float": 1.5, "neg": -0.0},
    {"deep": {"er": {"still": ["x", {"k": "v"}]}}},
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_redrive_digests_a_payload_as_submit_task_does(payload):
    # Given a payload a client could submit
    # When ftb and the handlers each digest it
    # Then the digests are equal (a redrive's --payload check matches the record's)
    assert redrive.payload_digest(payload) == payload_digest(payload)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_redrive_builds_the_execution_input_submit_task_queues(payload):
    # Given a task dead-lettered at intake and its payload
    # When ftb builds the execution input of its redrive
    built = redrive.workflow_input_json("task-0079", payload)
    # Then it is byte for byte the input submit-task would have queued
    assert built.encode("utf-8") == (
        WorkflowInput(task_id="task-0079", payload=payload).to_json().encode("utf-8")
    )


def test_a_redriven_record_outlives_its_reserved_name_by_a_day():
    # Given the handlers' record lifetime (as long as the execution name stays reserved)
    # When ftb moves a record to a new run
    # Then it keeps the record that long plus a day for the run itself
    assert timedelta(days=TASK_RECORD_TTL_DAYS + 1) == redrive.RECORD_TTL


@pytest.mark.parametrize(
    ("state_machine", "name"),
    [
        ("arn:aws:states:us-east-1:123456789012:stateMachine:task-workflow", "task-001"),
        ("arn:aws-cn:states:cn-north-1:123456789012:stateMachine:wf", "task-0079-r1"),
        ("arn:aws-us-gov:states:us-gov-west-1:1:stateMachine:Tasks-ab12", "a" * 80),
    ],
)
def test_ftb_and_get_task_derive_the_same_execution_arn(state_machine, name):
    # Given a state machine and an execution name
    # When ftb and get-task each derive the execution's ARN
    # Then they agree
    assert _tasks.execution_arn(state_machine, name) == task_status.execution_arn(
        state_machine, name
    )


@pytest.mark.parametrize(
    "not_a_state_machine",
    [
        "arn:aws:states:us-east-1:123456789012:execution:task-workflow:task-001",
        "arn:aws:states:us-east-1:123456789012:stateMachine",
        "task-workflow",
    ],
)
def test_ftb_and_get_task_refuse_the_same_arns(not_a_state_machine):
    # Given something that is not a state machine ARN
    # When ftb and get-task each derive an execution ARN from it
    # Then both refuse it (each with its own kind of error)
    with pytest.raises(CommandError):
        _tasks.execution_arn(not_a_state_machine, "task-001")
    with pytest.raises(ValueError):
        task_status.execution_arn(not_a_state_machine, "task-001")


def test_the_alarm_watches_the_metric_monitor_dlq_emits():
    # Given the metric name the stack's alarm uses and the one monitor-dlq emits
    # Then they are the same name
    assert names.DEAD_LETTERED_TASKS_METRIC == monitor_dlq.METRIC_NAME
