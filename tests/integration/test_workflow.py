"""The workflow, executed for real: statemachine/task_workflow.asl.json as it is, run by moto's
Step Functions engine behind the local AWS endpoint, with process-task served by the local
Lambda runtime from handlers/ (its real handler, its own worker processes).

The four paths run concurrently (started once for the module), so the real retry intervals
(2 s, backoff 2, full jitter) cost a few seconds in total. FAILURE_SEED makes each attempt's
outcome a function of (seed, taskId, attempt): the task ids below are searched with the
handler's own simulation, so each scenario gets exactly the sequence it names.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from task_domain.failure_simulation import fails_permanently, fails_transiently
from task_domain.models import payload_digest
from tests.support.local_endpoint import (
    ASL_FILE_NAME,
    HANDLERS_DIR,
    REPO_ROOT,
    LocalEndpoint,
    history,
    local_endpoint,
    wait_for_execution,
)

FAILURE_RATE = 0.3
FAILURE_SEED = "workflow-integration-test"
ATTEMPTS = 3  # the first attempt and the Retry's MaxAttempts: 2
PAYLOAD = {"customer": "acme", "amount": 42}


def task_id_failing_on(failing_attempts: set[int]) -> str:
    """The first task id whose seeded attempts fail exactly on `failing_attempts` (0-based)."""
    for n in range(100_000):
        task_id = f"wf-{len(failing_attempts)}-{n}"
        if fails_permanently(task_id):
            continue
        outcome = {
            attempt
            for attempt in range(ATTEMPTS)
            if fails_transiently(task_id, attempt, FAILURE_RATE, FAILURE_SEED)
        }
        if outcome == failing_attempts:
            return task_id
    raise AssertionError(f"no task id fails exactly on {failing_attempts}")


SCENARIOS = {
    "succeeds": task_id_failing_on(set()),
    "retried_then_succeeds": task_id_failing_on({0, 1}),
    "retries_exhausted": task_id_failing_on({0, 1, 2}),
    "permanent": "wf-permanent-3",
}


@dataclass
class Run:
    task_id: str
    description: dict[str, Any]
    events: list[dict[str, Any]]

    def of_type(self, event_type: str, resource_type: str | None = None) -> list[dict[str, Any]]:
        detail_keys = {
            "TaskScheduled": "taskScheduledEventDetails",
            "TaskSucceeded": "taskSucceededEventDetails",
            "TaskFailed": "taskFailedEventDetails",
        }
        found = [event for event in self.events if event["type"] == event_type]
        if resource_type is not None:
            key = detail_keys[event_type]
            found = [event for event in found if event[key]["resourceType"] == resource_type]
        return found

    def lambda_attempts(self) -> list[int]:
        """The `attempt` each process-task invocation was given ($$.State.RetryCount)."""
        return [
            json.loads(event["taskScheduledEventDetails"]["parameters"])["Payload"]["attempt"]
            for event in self.of_type("TaskScheduled", "lambda")
        ]


@dataclass
class Workflow:
    local: LocalEndpoint
    dlq_url: str
    runs: dict[str, Run]
    dead_letters: dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def workflow() -> Iterator[Workflow]:
    """Given the real ASL on the local endpoint with process-task in the local runtime,
    when every scenario's execution has run to its end (all started at once)."""
    with local_endpoint() as local:
        sqs = local.client("sqs")
        sfn = local.client("stepfunctions")
        dlq_url = sqs.create_queue(QueueName="workflow-test-dlq")["QueueUrl"]
        function = local.register(
            "workflow-test-process-task",
            HANDLERS_DIR,
            "process_task.handler",
            environment={
                "FAILURE_RATE": str(FAILURE_RATE),
                "FAILURE_SEED": FAILURE_SEED,
                "POWERTOOLS_SERVICE_NAME": "process-task",
                "POWERTOOLS_METRICS_NAMESPACE": "FaultTolerantBackend",
                "POWERTOOLS_LOG_LEVEL": "INFO",
            },
            timeout_seconds=30,
        )
        definition = (
            (REPO_ROOT / ASL_FILE_NAME)
            .read_text(encoding="utf-8")
            .replace("${ProcessTaskFunctionArn}", function.arn)
            .replace("${DeadLetterQueueUrl}", dlq_url)
        )
        state_machine_arn = sfn.create_state_machine(
            name="workflow-test",
            definition=definition,
            roleArn="arn:aws:iam::123456789012:role/workflow-test",
            type="STANDARD",
        )["stateMachineArn"]

        started = {
            scenario: sfn.start_execution(
                stateMachineArn=state_machine_arn,
                name=task_id,
                input=json.dumps({"taskId": task_id, "payload": PAYLOAD}),
            )["executionArn"]
            for scenario, task_id in SCENARIOS.items()
        }
        runs = {
            scenario: Run(
                SCENARIOS[scenario],
                wait_for_execution(sfn, execution_arn),
                history(sfn, execution_arn),
            )
            for scenario, execution_arn in started.items()
        }
        dead_letters: dict[str, dict[str, Any]] = {}
        while messages := sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10).get(
            "Messages"
        ):
            for message in messages:
                body = json.loads(message["Body"])
                assert body["taskId"] not in dead_letters, "one dead letter per task"
                dead_letters[body["taskId"]] = body
        yield Workflow(local, dlq_url, runs, dead_letters)


def test_a_task_that_succeeds_first_time_is_processed_once(workflow: Workflow) -> None:
    # Given a task whose first attempt succeeds / When its execution ends
    run = workflow.runs["succeeds"]

    # Then it succeeded with process-task's result, after exactly one invocation
    assert run.description["status"] == "SUCCEEDED"
    output = json.loads(run.description["output"])
    assert output["taskId"] == run.task_id
    assert output["attempt"] == 1
    assert output["payloadDigest"] == payload_digest(PAYLOAD)
    assert run.lambda_attempts() == [0]
    assert run.of_type("TaskFailed") == []
    assert run.task_id not in workflow.dead_letters


def test_transient_failures_are_retried_with_backoff_then_succeed(workflow: Workflow) -> None:
    # Given a task whose first two attempts fail transiently / When its execution ends
    run = workflow.runs["retried_then_succeeds"]

    # Then the history shows two TransientTaskErrors, each retried, then the success
    assert run.description["status"] == "SUCCEEDED"
    failures = run.of_type("TaskFailed", "lambda")
    assert [event["taskFailedEventDetails"]["error"] for event in failures] == [
        "TransientTaskError",
        "TransientTaskError",
    ]
    cause = json.loads(failures[0]["taskFailedEventDetails"]["cause"])
    assert cause["errorType"] == "TransientTaskError"
    assert "attempt 1" in cause["errorMessage"]
    assert run.lambda_attempts() == [0, 1, 2]
    assert len(run.of_type("TaskSucceeded", "lambda")) == 1
    assert json.loads(run.description["output"])["attempt"] == 3
    # ... and each wait is within its full-jitter bound: IntervalSeconds 2, BackoffRate 2
    scheduled = run.of_type("TaskScheduled", "lambda")
    for retry, (failure, next_try) in enumerate(zip(failures, scheduled[1:], strict=True)):
        waited = (next_try["timestamp"] - failure["timestamp"]).total_seconds()
        assert 0 <= waited <= 2 * 2**retry + 1.0, (retry, waited)
    assert run.task_id not in workflow.dead_letters


def test_exhausted_retries_dead_letter_the_task_and_fail_the_execution(
    workflow: Workflow,
) -> None:
    # Given a task whose three attempts all fail transiently / When its execution ends
    run = workflow.runs["retries_exhausted"]

    # Then process-task ran three times (MaxAttempts 2), and no more
    assert run.lambda_attempts() == [0, 1, 2]
    assert [e["taskFailedEventDetails"]["error"] for e in run.of_type("TaskFailed", "lambda")] == [
        "TransientTaskError"
    ] * 3
    # ... the Catch sent the dead letter, with the last error and without the payload
    assert len(run.of_type("TaskSucceeded", "sqs")) == 1
    letter = workflow.dead_letters[run.task_id]
    assert letter["source"] == "workflow"
    assert letter["error"] == "TransientTaskError"
    assert json.loads(letter["cause"])["errorMessage"].endswith("on attempt 3")
    assert letter["executionArn"] == run.description["executionArn"]
    assert letter["failedAt"]
    assert "payload" not in letter
    # ... and the execution FAILED with the task's own error and cause (the Fail state's paths)
    assert run.description["status"] == "FAILED"
    assert run.description["error"] == "TransientTaskError"
    assert run.description["cause"] == letter["cause"]
    assert run.events[-1]["type"] == "ExecutionFailed"


def test_a_permanent_failure_is_not_retried_and_is_dead_lettered(workflow: Workflow) -> None:
    # Given a task whose id ends in 3 / When its execution ends
    run = workflow.runs["permanent"]

    # Then process-task ran once: PermanentTaskError is not retried
    assert run.lambda_attempts() == [0]
    failure = run.of_type("TaskFailed", "lambda")[0]["taskFailedEventDetails"]
    assert failure["error"] == "PermanentTaskError"
    # ... the dead letter carries it, and the execution FAILED with it
    letter = workflow.dead_letters[run.task_id]
    assert letter["source"] == "workflow"
    assert letter["error"] == "PermanentTaskError"
    assert letter["cause"] == failure["cause"]
    assert run.description["status"] == "FAILED"
    assert run.description["error"] == "PermanentTaskError"


def test_process_task_logs_land_in_its_log_group(workflow: Workflow) -> None:
    # Given the executions above / When the runtime has shipped its logs
    assert workflow.local.runtime.flush_logs(timeout=60)
    logs = workflow.local.client("logs")

    # Then the function's Powertools records, with the taskId key, are in /aws/lambda/<name>
    events = logs.filter_log_events(logGroupName="/aws/lambda/workflow-test-process-task")["events"]
    records = [json.loads(e["message"]) for e in events if e["message"].startswith("{")]
    permanent = [r for r in records if r.get("taskId") == SCENARIOS["permanent"]]
    assert permanent and permanent[0]["error"] == "PermanentTaskError"
