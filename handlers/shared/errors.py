"""Error types of the task workflow.

The exception class name is the error name Step Functions sees (Lambda reports it as
`errorType`), so the workflow's Retry and Catch match on these names. Keep them stable.
"""

from __future__ import annotations

# Error messages end up in the workflow's Cause and in the dead-letter message; keep them
# bounded so that a dead-letter message always fits SQS's size limit.
MAX_ERROR_MESSAGE_CHARS = 2048


class TaskError(Exception):
    """Base of the errors process-task raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message[:MAX_ERROR_MESSAGE_CHARS])


class TransientTaskError(TaskError):
    """A failure that may go away: the workflow retries it with exponential backoff."""


class PermanentTaskError(TaskError):
    """A failure that will not go away: never retried, the task is dead-lettered."""


TRANSIENT_ERROR_NAME = TransientTaskError.__name__
PERMANENT_ERROR_NAME = PermanentTaskError.__name__
