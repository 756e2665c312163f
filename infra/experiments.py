"""The AWS FIS experiments (context chaos=true): which function each hits, with which action and
parameters, and which of the stack's alarms stops it.

Actions and parameters are those of AWS's FIS actions reference,
https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html#aws-lambda-actions-reference
(resource type aws:lambda:function, action target key `Functions`; every parameter a string:
`duration` ISO 8601; `invocationPercentage` 1-100, default 100; `preventExecution` true/false;
`startupDelayMilliseconds` 0-900,000, default 1000; `statusCode` 000-999 and
`contentTypeHeader` for the HTTP integration response).
"""

from __future__ import annotations

from dataclasses import dataclass

from infra import names

ACTION_INVOCATION_ERROR = "aws:lambda:invocation-error"
ACTION_INVOCATION_ADD_DELAY = "aws:lambda:invocation-add-delay"
ACTION_HTTP_INTEGRATION_RESPONSE = "aws:lambda:invocation-http-integration-response"
RESOURCE_TYPE = "aws:lambda:function"
TARGET_KEY = "Functions"  # the key every aws:lambda action names its target under

# Long enough for the alarms' 5-minute periods to see it, short enough to stay cheap.
DURATION = "PT10M"


@dataclass(frozen=True)
class Experiment:
    name: str  # the template's Name tag and description
    proves: str
    function: names.FunctionSpec
    action_id: str
    parameters: dict[str, str]
    stop_alarm: str  # the TaskAlarms construct id of its stop condition


EXPERIMENTS = (
    Experiment(
        name=names.EXPERIMENT_PROCESS_TASK_PARTIAL_FAILURE,
        proves="A fifth of process-task's invocations fail for 10 minutes: the workflow's "
        "retries absorb them. Stops if process-task's error rate passes 50%.",
        function=names.PROCESS_TASK,
        action_id=ACTION_INVOCATION_ERROR,
        # 20% on top of the simulated 30% transient failures: 44% of attempts fail, under
        # the error-rate alarm's 50%, which stops the experiment if the fault goes beyond it.
        parameters={"duration": DURATION, "invocationPercentage": "20", "preventExecution": "true"},
        stop_alarm="ProcessTaskErrorRate",
    ),
    Experiment(
        name=names.EXPERIMENT_PROCESS_TASK_TOTAL_FAILURE,
        proves="Every process-task invocation fails: every task is dead-lettered, logged and "
        "counted, and the dead-letter alarm fires and stops the experiment.",
        function=names.PROCESS_TASK,
        action_id=ACTION_INVOCATION_ERROR,
        parameters={
            "duration": DURATION,
            "invocationPercentage": "100",
            "preventExecution": "true",
        },
        stop_alarm="DeadLetteredTasks",
    ),
    Experiment(
        name=names.EXPERIMENT_START_EXECUTION_DELAY,
        proves="start-execution starts 10 s late on every invocation for 10 minutes: the task "
        "queue absorbs the backlog and every task still runs. Stops if the oldest queued "
        "task waits over 10 minutes.",
        function=names.START_EXECUTION,
        action_id=ACTION_INVOCATION_ADD_DELAY,
        # Under the function's 30 s timeout: a delay, not a timeout.
        parameters={
            "duration": DURATION,
            "invocationPercentage": "100",
            "startupDelayMilliseconds": "10000",
        },
        stop_alarm="TaskQueueOldestMessage",
    ),
    Experiment(
        name=names.EXPERIMENT_SUBMIT_TASK_ERRORS,
        proves="A quarter of POST /tasks calls get a 503 from submit-task without it running: "
        "clients see a 5xx, nothing is half-accepted. Stops if half the API's requests fail.",
        function=names.SUBMIT_TASK,
        action_id=ACTION_HTTP_INTEGRATION_RESPONSE,
        parameters={
            "duration": DURATION,
            "invocationPercentage": "25",
            # The handler does not run: no record, no message, so a retry starts afresh.
            "preventExecution": "true",
            "statusCode": "503",
            "contentTypeHeader": "application/json",
        },
        stop_alarm="ApiServerErrorRate",
    ),
)

# The functions the FIS extension is attached to: those an experiment targets.
TARGETED_FUNCTIONS = tuple(dict.fromkeys(e.function for e in EXPERIMENTS))
