"""`ftb redrive` (and the run bookkeeping `history`, `tasks`, `dead-letters` read) on moto.

moto without its executing engine keeps an execution RUNNING until it is stopped (ABORTED,
which a redrive treats like FAILED): enough to check the redrive's rules deterministically.
The full path with real failures runs against the local cloud in test_session.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from ftb.ops import tasks
from ftb.ops.commands.redrive import candidates
from ftb.ops.tasks import FailedRun
from task_domain import records
from task_domain.models import payload_digest
from task_domain.naming import derived_name
from task_domain.records import RESERVED_DIGEST
from tests.support.ops import REGION, DeployedStack, Run


def _stack_args(stack: DeployedStack) -> list[str]:
    return ["--stack", stack.name, "--region", REGION]


def _seed(
    stack: DeployedStack, task_id: str, payload: dict[str, Any], *, start: bool = True, **extra: Any
) -> None:
    """A task record as submit-task writes it, and (optionally) its first execution."""
    table = stack.client("dynamodb")
    item = {
        "taskId": {"S": task_id},
        "payloadDigest": {"S": payload_digest(payload)},
        "status": {"S": "QUEUED"},
        "submittedAt": {"S": "2026-01-01T00:00:00.000Z"},
        "executionName": {"S": task_id},
        "enqueued": {"BOOL": True},
        "expiresAt": {"N": str(int(time.time()) + 86400)},
        **extra,
    }
    table.put_item(TableName=stack.table_name, Item=item)
    if start:
        stack.client("stepfunctions").start_execution(
            stateMachineArn=stack.state_machine_arn,
            name=task_id,
            input=json.dumps({"taskId": task_id, "payload": payload}),
        )


def _arn(stack: DeployedStack, name: str) -> str:
    return stack.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"


def _stop(stack: DeployedStack, name: str) -> None:
    stack.client("stepfunctions").stop_execution(executionArn=_arn(stack, name))


def _record(stack: DeployedStack, task_id: str) -> dict[str, Any]:
    item = stack.client("dynamodb").get_item(
        TableName=stack.table_name, Key={"taskId": {"S": task_id}}, ConsistentRead=True
    )
    return item.get("Item", {})


def test_a_running_task_is_refused(ftb: Callable[..., Run], deployed_stack: DeployedStack) -> None:
    # Given a task whose execution runs
    _seed(deployed_stack, "job-run", {"n": 1})
    # When it is redriven
    run = ftb("redrive", "job-run", *_stack_args(deployed_stack), "--json")
    # Then it is refused with the reason, exit code 1, and nothing changed
    assert run.code == 1
    assert run.json() == [
        {
            "taskId": "job-run",
            "outcome": "refused",
            "reason": "still running (run 1: job-run)",
            "next": "wait for the run to end: `ftb status job-run`",
        }
    ]
    assert "runs" not in _record(deployed_stack, "job-run")


def test_a_refused_redrive_prints_its_next_step(
    ftb: Callable[..., Run], deployed_stack: DeployedStack
) -> None:
    # Given a task whose execution runs
    _seed(deployed_stack, "job-next", {"n": 1})
    # When it is redriven, for a person (no --json)
    run = ftb("redrive", "job-next", *_stack_args(deployed_stack))
    # Then the table gives the reason and a `next:` line says what to do
    assert run.code == 1
    assert "still running" in run.out
    assert "next: wait for the run to end: `ftb status job-next`" in run.err


def _failed_run(task_id: str, error: str) -> FailedRun:
    return FailedRun(
        task_id=task_id,
        source="workflow",
        error=error,
        cause="...",
        failed_at=None,
        execution_name=task_id,
        current_run=task_id,
    )


def test_all_failed_leaves_permanent_failures_alone_unless_included(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a transient and a permanent failure, each the task's current run
    runs = [_failed_run("t-1", "TransientTaskError"), _failed_run("t-3", "PermanentTaskError")]
    monkeypatch.setattr(tasks, "dead_lettered", lambda *args, **kwargs: list(runs))
    target = SimpleNamespace(client=lambda name: None, table=lambda: None, state_machine_arn="sm")
    # When the candidates of --all-failed are chosen, without and with --include-permanent
    default = candidates(target, timedelta(hours=1))  # type: ignore[arg-type]
    included = candidates(target, timedelta(hours=1), include_permanent=True)  # type: ignore[arg-type]
    # Then the permanent failure is left alone (and named), unless included
    assert default == (["t-1"], ["t-3"])
    assert included == (["t-1", "t-3"], [])


def test_include_permanent_needs_all_failed(ftb: Callable[..., Run]) -> None:
    # Given task ids  When --include-permanent is added  Then it is a usage error with a hint
    run = ftb("redrive", "t-1", "--include-permanent")
    assert run.code == 2
    assert "--include-permanent only applies to --all-failed" in run.err and "next:" in run.err


def test_a_failed_task_is_redriven_under_a_new_name_and_the_first_run_stays_reachable(
    ftb: Callable[..., Run], deployed_stack: DeployedStack
) -> None:
    # Given a task whose first run ended without success
    _seed(deployed_stack, "job-1", {"n": 1}, deadLetter={"M": {"source": {"S": "workflow"}}})
    _stop(deployed_stack, "job-1")
    # When it is redriven
    run = ftb("redrive", "job-1", *_stack_args(deployed_stack), "--json")
    # Then run 2 started as job-1-r1 with the original input
    assert run.code == 0, run.err
    [result] = run.json()
    assert (result["outcome"], result["run"], result["executionName"]) == (
        "redriven",
        2,
        "job-1-r1",
    )
    sfn = deployed_stack.client("stepfunctions")
    started = sfn.describe_execution(executionArn=_arn(deployed_stack, "job-1-r1"))
    assert json.loads(started["input"]) == {"taskId": "job-1", "payload": {"n": 1}}
    # And the record points at the new run, keeps the old one, and lost the stale dead letter
    record = _record(deployed_stack, "job-1")
    assert record["executionName"] == {"S": "job-1-r1"}
    assert record["runs"] == {"L": [{"S": "job-1"}]}
    assert "deadLetter" not in record
    # (kept as long as the new name stays reserved: 90 days after the run, and a day more)
    assert int(record["expiresAt"]["N"]) > time.time() + 90 * 86400
    # And the new name is reserved, so no task can be submitted under it later
    reservation = _record(deployed_stack, "job-1-r1")
    assert reservation["reservedFor"] == {"S": "job-1"}
    assert reservation["payloadDigest"] == {"S": RESERVED_DIGEST}
    # When it is redriven again while run 2 runs
    again = ftb("redrive", "job-1", *_stack_args(deployed_stack), "--json")
    # Then that is refused
    assert again.code == 1 and "still running (run 2" in again.json()[0]["reason"]
    # And history reaches both runs; a run that does not exist is a usage error
    first = ftb("history", "job-1", "--run", "1", *_stack_args(deployed_stack), "--json")
    latest = ftb("history", "job-1", *_stack_args(deployed_stack), "--json")
    assert first.json()["executionArn"] == _arn(deployed_stack, "job-1")
    assert (latest.json()["run"], latest.json()["runs"]) == (2, 2)
    assert latest.json()["executionArn"] == _arn(deployed_stack, "job-1-r1")
    missing = ftb("history", "job-1", "--run", "3", *_stack_args(deployed_stack))
    assert missing.code == 2 and "has 2 run(s)" in missing.err
    # And the listing shows the latest run, without the reservation
    listing = ftb("tasks", *_stack_args(deployed_stack), "--json").json()
    assert [(t["taskId"], t["run"], t["status"]) for t in listing] == [("job-1", 2, "RUNNING")]


def test_dead_letters_list_failed_runs_and_say_which_were_redriven(
    ftb: Callable[..., Run], deployed_stack: DeployedStack
) -> None:
    # Given two failed tasks, one of them redriven since, and one intake dead letter
    _seed(deployed_stack, "dl-1", {"n": 1})
    _seed(deployed_stack, "dl-2", {"n": 2})
    _stop(deployed_stack, "dl-1")
    _stop(deployed_stack, "dl-2")
    _seed(
        deployed_stack,
        "dl-intake",
        {"n": 3},
        start=False,
        deadLetter={
            "M": {
                "source": {"S": "intake"},
                "error": {"S": "StartExecutionFailed"},
                "cause": {"S": "no execution was started after 50 receives"},
                "at": {"S": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())},
            }
        },
    )
    assert ftb("redrive", "dl-2", *_stack_args(deployed_stack)).code == 0
    # When the dead letters are listed
    run = ftb("dead-letters", *_stack_args(deployed_stack), "--json")
    # Then all three are there with their source, error, and whether they were redriven
    assert run.code == 0, run.err
    by_task = {item["taskId"]: item for item in run.json()}
    assert set(by_task) == {"dl-1", "dl-2", "dl-intake"}
    assert (by_task["dl-1"]["source"], by_task["dl-1"]["redriven"]) == ("aborted", False)
    assert by_task["dl-2"]["redriven"] is True
    assert by_task["dl-2"]["currentExecutionName"] == "dl-2-r1"
    assert by_task["dl-intake"]["error"] == "StartExecutionFailed"
    # When every failed task is redriven
    redriven = ftb("redrive", "--all-failed", *_stack_args(deployed_stack), "--json")
    # Then dl-1 gets its second run; the intake one needs its payload (refused, exit 1)
    outcomes = {item["taskId"]: item for item in redriven.json()}
    assert set(outcomes) == {"dl-1", "dl-intake"}
    assert outcomes["dl-1"]["executionName"] == "dl-1-r1"
    assert "--payload" in outcomes["dl-intake"]["reason"]
    assert outcomes["dl-intake"]["next"].startswith("`ftb redrive dl-intake --payload")
    assert redriven.code == 1


def test_an_intake_dead_letter_is_redriven_with_its_payload(
    ftb: Callable[..., Run], deployed_stack: DeployedStack, tmp_path
) -> None:
    # Given a task SQS dead-lettered before any execution existed
    _seed(
        deployed_stack,
        "intake-1",
        {"n": 7},
        start=False,
        deadLetter={"M": {"source": {"S": "intake"}}},
    )
    # When it is redriven with another payload
    wrong = ftb(
        "redrive", "intake-1", "--payload", '{"n": 8}', *_stack_args(deployed_stack), "--json"
    )
    # Then that is refused
    assert wrong.code == 1 and "not the payload" in wrong.json()[0]["reason"]
    # When it is redriven with its own payload
    payload_file = tmp_path / "p.json"
    payload_file.write_text('{"n": 7}', encoding="utf-8")
    right = ftb(
        "redrive",
        "intake-1",
        "--payload",
        f"@{payload_file}",
        *_stack_args(deployed_stack),
        "--json",
    )
    # Then its first execution starts under its own name and the dead letter is cleared
    assert right.code == 0, right.err
    assert right.json()[0]["executionName"] == "intake-1"
    sfn = deployed_stack.client("stepfunctions")
    started = sfn.describe_execution(executionArn=_arn(deployed_stack, "intake-1"))
    assert json.loads(started["input"]) == {"payload": {"n": 7}, "taskId": "intake-1"}
    assert "deadLetter" not in _record(deployed_stack, "intake-1")


def test_a_derived_name_held_by_another_task_is_not_reused(
    ftb: Callable[..., Run], deployed_stack: DeployedStack
) -> None:
    # Given a failed task job-3 and another task whose taskId is job-3-r1
    _seed(deployed_stack, "job-3", {"n": 3})
    _seed(deployed_stack, "job-3-r1", {"other": True})
    _stop(deployed_stack, "job-3")
    # When job-3 is redriven
    run = ftb("redrive", "job-3", *_stack_args(deployed_stack), "--json")
    # Then it runs under the hashed form of the name, and job-3-r1 is untouched
    assert run.code == 0, run.err
    name = run.json()[0]["executionName"]
    assert name == derived_name("job-3", 1, hashed=True)
    assert "reservedFor" not in _record(deployed_stack, "job-3-r1")


def test_a_concurrent_redrive_loses_the_conditional_update(deployed_stack: DeployedStack) -> None:
    # Given a failed task, and a redriver that read the record before someone else redrove it
    import argparse

    from ftb.ops import target as targets

    _seed(deployed_stack, "race-1", {"n": 1})
    _stop(deployed_stack, "race-1")
    target = targets.resolve(
        argparse.Namespace(stack=deployed_stack.name, region=REGION, profile=None, state_file=None)
    )
    table = target.table()
    assert records.move_to_run(table, "race-1", "race-1", "race-1-r1")  # the other redrive wins
    # When the stale redriver tries to move the record from the same run
    moved = records.move_to_run(table, "race-1", "race-1", "race-1-r1")
    # Then its conditional update fails: one redrive only
    assert moved is False


@pytest.mark.parametrize(
    "argv",
    [
        ["redrive"],
        ["redrive", "a", "--all-failed"],
        ["redrive", "a", "--since", "1h"],
    ],
)
def test_redrive_usage_errors(
    ftb: Callable[..., Run], deployed_stack: DeployedStack, argv: list[str]
) -> None:
    # When the redrive is asked for ambiguously
    run = ftb(*argv, *_stack_args(deployed_stack))
    # Then exit code 2 with what to do next
    assert run.code == 2
    assert "next:" in run.err


def test_redriving_a_permanent_failure_by_name_warns_first(
    ftb: Callable[..., Run], deployed_stack: DeployedStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a task whose run failed permanently
    _seed(deployed_stack, "job-13", {"n": 13}, start=False)
    failed = {
        "status": "FAILED",
        "error": "PermanentTaskError",
        "cause": json.dumps({"errorMessage": "it ends in 3"}),
        "input": json.dumps({"taskId": "job-13", "payload": {"n": 13}}),
    }
    real = tasks.describe_execution
    monkeypatch.setattr(
        tasks,
        "describe_execution",
        lambda sfn, arn: failed if arn.endswith(":job-13") else real(sfn, arn),
    )
    # When it is redriven by name
    run = ftb("redrive", "job-13", *_stack_args(deployed_stack))
    # Then a warning says it failed permanently and will fail again, and it is redriven
    assert "warning: job-13 failed permanently (PermanentTaskError: it ends in 3)" in run.err
    assert "fails the same way unless that cause was fixed" in run.err
    assert run.code == 0, run.err
    assert "redriven" in run.out
