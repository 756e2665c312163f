"""The stack's saved Logs Insights queries: their text and which log groups each reads.

Two kinds of lines are queried (Logs Insights discovers the fields of JSON lines, nested ones
as `a.b`):
- the functions' Powertools JSON lines: `level`, `message`, `service`, `taskId` and what each
  handler appends (`attempt`, `error`, `cause`, `executionArn`; the monitor's dead-letter
  fields `source`, `receiveCount`); `logger.exception` adds `exception_name`;
- the state machine's execution events (level ALL, no execution data), in the format AWS
  documents for Step Functions logs (https://docs.aws.amazon.com/step-functions/latest/dg/
  cw-logs.html): `id`, `type`, `details` (`details.error`, `details.cause`,
  `details.resourceType`...), `previous_event_id`, `event_timestamp`, `execution_arn`,
  `redrive_count`. Executions are named after their taskId, so `execution_arn` names the task.

Every query is written in the subset both targets run: AWS's Logs Insights and the local
endpoint's (tests/unit/test_saved_queries.py parses each with the local parser). Query syntax:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax.html
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from infra import names

TASK_ID = names.QUERY_TASK_ID_PLACEHOLDER


class Source(Enum):
    """Which of the stack's log groups a query reads."""

    ALL = "every function's and the state machine's"
    FUNCTIONS = "every function's"
    WORKFLOW = "the state machine's"
    MONITOR = "monitor-dlq's"


@dataclass(frozen=True)
class SavedQuery:
    key: str  # the name under the stack's folder
    summary: str
    source: Source
    query: str


FOLLOW_ONE_TASK = SavedQuery(
    key=names.QUERY_FOLLOW_ONE_TASK,
    summary="Every line about one task, in order: its functions' lines and its executions' "
    "events (each run, redrives included).",
    source=Source.ALL,
    query=(
        f"# Replace {TASK_ID} with the task's id (both places).\n"
        "fields @timestamp, @log, coalesce(type, message) as event, level, attempt, "
        "coalesce(error, details.error) as errorName, coalesce(cause, details.cause) as why\n"
        # Its runs: the first execution is named after the task, a redrive `<taskId>-r<n>`.
        f'| filter taskId = "{TASK_ID}" or execution_arn =~ /:{TASK_ID}(-r\\d+)?$/\n'
        "| sort @timestamp asc\n"
        "| limit 10000"
    ),
)

FAILURES_BY_ERROR = SavedQuery(
    key=names.QUERY_FAILURES_BY_ERROR,
    summary="Failed attempts and handler errors, counted by function and error name, with how "
    "many tasks each touched and the latest cause.",
    source=Source.FUNCTIONS,
    query=(
        "fields coalesce(error, exception_name) as errorName\n"
        "| filter ispresent(errorName)\n"
        "| stats count(*) as failures, count_distinct(taskId) as tasks, "
        "latest(cause) as lastCause by service, errorName\n"
        "| sort failures desc\n"
        "| limit 100"
    ),
)

RETRIES_PER_TASK = SavedQuery(
    key=names.QUERY_RETRIES_PER_TASK,
    summary="Failed process-task attempts per execution (every one is followed by a retry "
    "unless it was the last): read from the workflow's TaskFailed/TaskTimedOut events, so "
    "faults that never reached the handler (FIS, timeouts) count too.",
    source=Source.WORKFLOW,
    query=(
        'filter (type = "TaskFailed" or type = "TaskTimedOut") '
        'and details.resourceType = "lambda"\n'
        "| stats count(*) as failedAttempts, latest(details.error) as lastError, "
        "latest(redrive_count) as redriveCount by execution_arn\n"
        "| sort failedAttempts desc\n"
        "| limit 100"
    ),
)

DEAD_LETTERS = SavedQuery(
    key=names.QUERY_DEAD_LETTERS,
    summary="Every dead-lettered task as the monitor reported it: where from (workflow or "
    "intake), its error and cause, newest first.",
    source=Source.MONITOR,
    query=(
        "fields @timestamp, taskId, source, error, cause, executionArn, receiveCount\n"
        '| filter message = "Task dead-lettered"\n'
        "| sort @timestamp desc\n"
        "| limit 1000"
    ),
)

SLOWEST_TASKS = SavedQuery(
    key=names.QUERY_SLOWEST_TASKS,
    summary="Executions by wall time from their first event to their last (a running one: so "
    "far), slowest first; retries and backoffs included.",
    source=Source.WORKFLOW,
    query=(
        "filter ispresent(execution_arn)\n"
        "| fields tomillis(@timestamp) as atMs\n"
        "| stats min(atMs) as firstMs, max(atMs) as lastMs, count(*) as events "
        "by execution_arn\n"
        # A second stats over the first's rows (one per execution): the span of each.
        "| stats max((lastMs - firstMs) / 1000) as seconds, max(events) as historyEvents "
        "by execution_arn\n"
        "| sort seconds desc\n"
        "| limit 20"
    ),
)

ALL_QUERIES = (FOLLOW_ONE_TASK, FAILURES_BY_ERROR, RETRIES_PER_TASK, DEAD_LETTERS, SLOWEST_TASKS)
