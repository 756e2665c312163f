"""The failure message GET /tasks/{taskId} gives: the error name and words for the caller,
never a stack trace, a file path or a code line (those stay in the history and the logs)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from task_domain.caller_errors import INTERNAL_FAILURE, MAX_MESSAGE_CHARS, caller_message

TRACE = [
    '  File "/var/task/process_task.py", line 29, in handler\n    return process(task)\n',
    '  File "/opt/python/aws_lambda_powertools/tracing/tracer.py", line 310, in decorate\n',
]


def lambda_cause(error_type: str, message: str) -> str:
    """A Lambda error's cause as Step Functions records it."""
    return json.dumps(
        {"errorMessage": message, "errorType": error_type, "requestId": "r", "stackTrace": TRACE}
    )


def test_a_task_error_gives_its_own_message_without_the_stack_trace() -> None:
    # Given a transient failure's cause, with Lambda's stack trace in it
    cause = lambda_cause("TransientTaskError", "Simulated transient failure on attempt 3")
    # When the caller's message is made  Then it is the task's message alone
    assert caller_message("TransientTaskError", cause) == "Simulated transient failure on attempt 3"


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        ("KeyError", lambda_cause("KeyError", "'payload'")),
        ("Lambda.ServiceException", "Lambda is unavailable"),
        ("Sandbox.Timedout", "Task timed out after 30.00 seconds"),
        ("States.TaskFailed", 'Traceback (most recent call last):\n  File "/var/task/x.py"'),
        ("ValueError", None),
    ],
)
def test_an_unexpected_error_says_it_failed_inside_and_where_operators_look(
    error: str, cause: str | None
) -> None:
    assert caller_message(error, cause) == INTERNAL_FAILURE


def test_a_task_error_whose_message_holds_a_path_is_not_repeated() -> None:
    # Given a task error whose message quotes a file (an unexpected wrap of another error)
    cause = lambda_cause("PermanentTaskError", "cannot open /var/task/data/table.csv")
    # Then the caller gets the internal-failure message instead
    assert caller_message("PermanentTaskError", cause) == INTERNAL_FAILURE


@pytest.mark.parametrize(
    ("error", "words"),
    [
        ("States.Timeout", "did not finish in time"),
        ("States.Aborted", "stopped before it finished"),
        ("StartExecutionFailed", "could not be started"),
        ("MalformedTaskMessage", "could not be read"),
    ],
)
def test_timeouts_aborts_and_intake_dead_letters_are_named_in_words(error: str, words: str) -> None:
    assert words in caller_message(error, "anything the service said")


@given(
    error=st.sampled_from(["TransientTaskError", "PermanentTaskError", "KeyError", "X"]),
    message=st.text(max_size=600),
)
def test_no_message_ever_holds_a_trace_a_path_or_more_than_one_line(
    error: str, message: str
) -> None:
    text = caller_message(error, lambda_cause(error, message))
    assert "\n" not in text and len(text) <= MAX_MESSAGE_CHARS
    assert "stackTrace" not in text and "/var/task" not in text and 'File "' not in text
