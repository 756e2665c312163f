"""What a dead-letter queue message says, whatever its body holds."""

from __future__ import annotations

import json

import pytest

from task_domain.dead_letters import INTAKE_ERROR, MALFORMED_ERROR, from_message, run_of


def test_a_workflow_dead_letter_keeps_its_error_cause_and_run():
    # Given the message the workflow's Catch sends
    body = json.dumps(
        {
            "source": "workflow",
            "taskId": "task123",
            "error": "PermanentTaskError",
            "cause": "its id ends in 3",
            "executionArn": "arn:aws:states:us-east-1:1:execution:wf:task123-r1",
            "failedAt": "2026-11-24T20:00:05.000Z",
        }
    )
    # When it is read
    dead_letter = from_message(body, "1")
    # Then it names the task, its error and cause, and the run that failed
    assert (dead_letter.source, dead_letter.task_id) == ("workflow", "task123")
    assert (dead_letter.error, dead_letter.cause) == ("PermanentTaskError", "its id ends in 3")
    assert run_of(dead_letter) == "task123-r1"


def test_a_task_message_moved_by_the_queue_is_an_intake_dead_letter_of_the_first_run():
    # Given a task-queue message SQS moved after 50 receives
    dead_letter = from_message('{"taskId": "task-001", "payload": {}}', "50")
    # Then it is the task's intake dead letter, saying how many receives it took
    assert (dead_letter.source, dead_letter.task_id, dead_letter.error) == (
        "intake",
        "task-001",
        INTAKE_ERROR,
    )
    assert "after 50 receives" in (dead_letter.cause or "")
    assert run_of(dead_letter) == "task-001"


@pytest.mark.parametrize(
    "body", [None, "", "not json", "[]", '{"taskId": "bad id!", "payload": {}}', '{"taskId": 1}']
)
def test_a_malformed_message_is_still_a_dead_letter_without_a_task(body):
    # When a body that is no task is read
    dead_letter = from_message(body, "?")
    # Then it is a malformed intake dead letter with no task to mark, never an exception
    assert (dead_letter.source, dead_letter.task_id, dead_letter.error) == (
        "intake",
        None,
        MALFORMED_ERROR,
    )
    assert run_of(dead_letter) is None
