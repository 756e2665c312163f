"""What a caller of GET /tasks/{taskId} is told about a failure: the error name and a message
written for them, never how it failed.

A failed execution's `cause` is whatever the failing state recorded. For a Lambda error that
is Lambda's JSON (errorMessage, errorType, requestId and stackTrace, with the function's file
paths and code lines); for a timeout or a service error it is the service's text. Callers get:

- the task's own errors (TransientTaskError, PermanentTaskError): their errorMessage, which
  process-task writes for the caller (task_domain/processing.py), on one line;
- a timeout, an abort, or a task that could not be started: a sentence per case;
- anything else (an unexpected exception, a Lambda service error): that it failed inside the
  service, and that operators can see why.

The full cause stays in the execution's history, the dead letter and the logs, which
operators read (`ftb history`, `ftb logs`, the task console).
"""

from __future__ import annotations

import json
import re

from task_domain.errors import PERMANENT_ERROR_NAME, TRANSIENT_ERROR_NAME

# Errors whose message the task's own code wrote for the caller.
_TASK_ERRORS = frozenset({TRANSIENT_ERROR_NAME, PERMANENT_ERROR_NAME})
_FIXED_MESSAGES = {
    "States.Timeout": "The task did not finish in time.",
    "States.Aborted": "The task was stopped before it finished.",
    "StartExecutionFailed": (
        "The task could not be started; it was set aside for an operator to run again."
    ),
    "MalformedTaskMessage": "The task could not be read; it was set aside for an operator.",
}
INTERNAL_FAILURE = (
    "The task failed because of an error inside the service; operators can see the details "
    "in the task's history."
)
MAX_MESSAGE_CHARS = 300
# A path or a code location: never shown to a caller, even inside a task error's message.
_INTERNALS = re.compile(r"(/[\w.-]+){2,}|\bFile \"|\bline \d+|Traceback \(most recent call last\)")


def caller_message(error: str | None, cause: str | None) -> str:
    """The message GET /tasks/{taskId} gives for a failure of `error` with `cause`."""
    if error in _FIXED_MESSAGES:
        return _FIXED_MESSAGES[error]
    if error in _TASK_ERRORS:
        written = _error_message(cause)
        if written and not _INTERNALS.search(written):
            return _one_line(written)
    return INTERNAL_FAILURE


def _error_message(cause: str | None) -> str | None:
    """A Lambda error's errorMessage; a plain-text cause as it is."""
    if not cause:
        return None
    try:
        parsed = json.loads(cause)
    except ValueError:
        return cause
    if isinstance(parsed, dict):
        message = parsed.get("errorMessage")
        return message if isinstance(message, str) else None
    return None


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"
