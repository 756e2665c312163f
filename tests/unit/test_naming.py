"""Execution names and ARNs: what the starter, get-task and `ftb redrive` all derive."""

from __future__ import annotations

import re

import pytest

from task_domain.naming import derived_name, execution_arn, execution_name_of

EXECUTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def test_derived_names_are_deterministic_valid_and_bounded() -> None:
    # Given a short and a maximal taskId
    long_id = "x" * 80
    # Then the n-th redrive of a short id is {taskId}-r{n}; a long one is cut and hashed
    assert derived_name("task123", 1) == "task123-r1"
    assert derived_name("task123", 12) == "task123-r12"
    for name in (
        derived_name(long_id, 1),
        derived_name(long_id, 999),
        derived_name("a", 1, hashed=True),
    ):
        assert EXECUTION_NAME.fullmatch(name)
        assert len(name) <= 80
    assert derived_name(long_id, 2) == derived_name(long_id, 2)
    assert derived_name(long_id, 2) != derived_name(long_id, 3)
    assert derived_name(long_id, 2) != derived_name("y" * 80, 2)


@pytest.mark.parametrize(
    ("state_machine", "name", "expected"),
    [
        (
            "arn:aws:states:us-east-1:123456789012:stateMachine:task-workflow",
            "task-001",
            "arn:aws:states:us-east-1:123456789012:execution:task-workflow:task-001",
        ),
        (
            "arn:aws-cn:states:cn-north-1:123456789012:stateMachine:wf",
            "task-0079-r1",
            "arn:aws-cn:states:cn-north-1:123456789012:execution:wf:task-0079-r1",
        ),
        (
            "arn:aws-us-gov:states:us-gov-west-1:1:stateMachine:Tasks-ab12",
            "a" * 80,
            "arn:aws-us-gov:states:us-gov-west-1:1:execution:Tasks-ab12:" + "a" * 80,
        ),
    ],
)
def test_an_execution_arn_is_derived_from_the_machine_in_every_partition(
    state_machine: str, name: str, expected: str
) -> None:
    # Given a state machine and an execution name
    # When the execution's ARN is derived
    arn = execution_arn(state_machine, name)
    # Then it is the machine's ARN with execution:<machine>:<name>, and the name reads back
    assert arn == expected
    assert execution_name_of(arn) == name


@pytest.mark.parametrize(
    "not_a_state_machine",
    [
        "arn:aws:states:us-east-1:123456789012:execution:task-workflow:task-001",
        "arn:aws:states:us-east-1:123456789012:stateMachine",
        "task-workflow",
        "",
        "arn:aws:states:us-east-1:1:activity:x",
        "arn:aws:sqs:a:b:c",
    ],
)
def test_anything_but_a_state_machine_arn_is_refused(not_a_state_machine: str) -> None:
    # Given something that is not a state machine ARN
    # When an execution ARN is derived from it
    # Then it is refused
    with pytest.raises(ValueError, match="not a state machine ARN"):
        execution_arn(not_a_state_machine, "task-001")
