"""The operator session of the README, against the local cloud (the real app, subprocess).

Submit a batch, list the failed tasks, read the history and the logs of one, list the dead
letters, then ship the fix (`ftb set-env process-task FAILURE_RATE=0`) and redrive: the
transient failures succeed on their second run, the permanent ones (ids ending in 3) fail
again; the first runs stay readable. The cloud's failures are seeded, so which tasks fail
is known in advance.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from ftb import cli
from task_domain.failure_simulation import fails_permanently, fails_transiently
from tests.support.local_cloud import wait_for
from tests.support.ops import CLOUD_FAILURE_RATE, CLOUD_FAILURE_SEED, Run

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

BATCH = 20
ATTEMPTS = 3  # the workflow's MaxAttempts 2 + the first try


def _exhausts_retries(task_id: str) -> bool:
    return not fails_permanently(task_id) and all(
        fails_transiently(task_id, attempt, CLOUD_FAILURE_RATE, CLOUD_FAILURE_SEED)
        for attempt in range(ATTEMPTS)
    )


def _retried_then_succeeded(task_id: str) -> bool:
    return (
        not fails_permanently(task_id)
        and fails_transiently(task_id, 0, CLOUD_FAILURE_RATE, CLOUD_FAILURE_SEED)
        and not _exhausts_retries(task_id)
    )


@dataclass
class Batch:
    ids: list[str]
    permanent: list[str]
    exhausted: list[str]
    retried: list[str]

    @property
    def failed(self) -> set[str]:
        return {*self.permanent, *self.exhausted}


def _ids(prefix: str) -> list[str]:
    return [f"{prefix}-{number:04d}" for number in range(1, BATCH + 1)]


def _pick_prefix() -> str:
    """The first prefix whose batch has a task that exhausts its retries and one that recovers."""
    for letter in "abcdefghijklmnopqrstuvwxyz":
        ids = _ids(f"ops{letter}")
        if any(map(_exhausts_retries, ids)) and any(map(_retried_then_succeeded, ids)):
            return f"ops{letter}"
    raise AssertionError("no prefix gives both kinds of failure")


def _source(line: dict[str, Any]) -> str:
    """/aws/lambda/FaultTolerantBackend-process-task -> process-task."""
    return str(line["logGroup"]).split("FaultTolerantBackend-", 1)[-1]


def _ftb(*argv: str) -> Run:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return Run(code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def batch(ops_cloud: Any) -> Iterator[Batch]:
    prefix = _pick_prefix()
    ids = _ids(prefix)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FTB_STATE_FILE", str(ops_cloud.state_file))
        patch.setenv("COLUMNS", "250")
        # Given a batch of generated tasks, submitted through the API
        submitted = _ftb("submit", "--count", str(BATCH), "--prefix", prefix, "--json")
        assert submitted.code == 0, submitted.err
        assert submitted.json()["accepted"] == BATCH

        def finished() -> bool:
            listing = _ftb("tasks", "--limit", "1000", "--json").json()
            mine = [task for task in listing if task["taskId"] in ids]
            return len(mine) == BATCH and all(
                task["status"] in ("SUCCEEDED", "FAILED") for task in mine
            )

        wait_for(finished, 300, "the batch to finish", interval=1.0)
        yield Batch(
            ids=ids,
            permanent=[task_id for task_id in ids if fails_permanently(task_id)],
            exhausted=[task_id for task_id in ids if _exhausts_retries(task_id)],
            retried=[task_id for task_id in ids if _retried_then_succeeded(task_id)],
        )


def test_resubmitting_the_batch_is_all_duplicates(
    ftb: Callable[..., Run], on_ops_cloud: Any, batch: Batch
) -> None:
    # When the same batch is submitted again
    prefix = batch.ids[0].rsplit("-", 1)[0]
    run = ftb("submit", "--count", str(BATCH), "--prefix", prefix, "--json")
    # Then every task is a duplicate: nothing runs twice
    assert run.code == 0, run.err
    assert (run.json()["accepted"], run.json()["duplicates"]) == (0, BATCH)


def test_tasks_lists_exactly_the_failed_ones(
    ftb: Callable[..., Run], on_ops_cloud: Any, batch: Batch
) -> None:
    # When the failed tasks are listed
    run = ftb("tasks", "--status", "FAILED", "--limit", "1000", "--json")
    # Then they are the ids ending in 3 and the ones whose 3 attempts all failed
    assert run.code == 0, run.err
    failed = {task["taskId"]: task for task in run.json() if task["taskId"] in batch.ids}
    assert set(failed) == batch.failed
    for task_id in batch.permanent:
        assert failed[task_id]["error"] == "PermanentTaskError"
    for task_id in batch.exhausted:
        assert failed[task_id]["error"] == "TransientTaskError"
    # And the table says the same, with a caption of counts
    table = ftb("tasks", "--status", "FAILED", "--limit", "1000")
    assert all(task_id in table.out for task_id in batch.failed)


def test_status_of_a_failed_and_a_succeeded_task(
    ftb: Callable[..., Run], on_ops_cloud: Any, batch: Batch
) -> None:
    # When the status of a failed and of a retried-then-succeeded task is asked
    failed, succeeded = batch.exhausted[0], batch.retried[0]
    run = ftb("status", failed, succeeded, "--json")
    # Then GET /tasks answers FAILED with the error, SUCCEEDED with the result; exit code 1
    assert run.code == 1
    views = {view["taskId"]: view for view in run.json()}
    assert views[failed]["status"] == "FAILED"
    assert views[failed]["error"] == "TransientTaskError"
    assert views[succeeded]["status"] == "SUCCEEDED"
    assert views[succeeded]["result"]["attempt"] > 1
    # And a succeeded task alone exits 0
    assert ftb("status", succeeded).code == 0


def test_history_of_a_task_that_exhausted_its_retries(
    ftb: Callable[..., Run], on_ops_cloud: Any, batch: Batch
) -> None:
    task_id = batch.exhausted[0]
    # When its history is read
    run = ftb("history", task_id, "--json")
    # Then: 3 attempts with growing backoffs, the Catch, the Fail state; exit code 0 (it
    # showed the history asked for; `ftb status` is the command whose exit says "failed")
    assert run.code == 0, run.err
    history = run.json()
    summary = history["summary"]
    assert summary["status"] == "FAILED"
    assert summary["attempts"] == ATTEMPTS
    # ProcessTask, SendToDeadLetterQueue, TaskFailed entered + 2 retries
    assert (summary["statesEntered"], summary["retries"]) == (3, 2)
    assert summary["billedStateTransitions"] == 5
    failures = [e for e in history["events"] if e["type"] == "TaskFailed"]
    assert [e["attempt"] for e in failures] == [1, 2, 3]
    assert all(e["error"] == "TransientTaskError" and e["step"] == "ProcessTask" for e in failures)
    retries = [e for e in history["events"] if "backoffSeconds" in e]
    assert len(retries) == 2
    steps = [e["step"] for e in history["events"] if e["type"].endswith("StateEntered")]
    assert steps == ["ProcessTask", "SendToDeadLetterQueue", "TaskFailed"]
    # And the table shows the console's columns and the summary line
    table = ftb("history", task_id)
    assert "Started after" in table.out and "retry after" in table.out
    assert "3 attempts" in table.out and "5 billed state transitions" in table.out


def test_history_with_data_shows_inputs_and_outputs(
    ftb: Callable[..., Run], on_ops_cloud: Any, batch: Batch
) -> None:
    task_id = batch.retried[0]
    # When the history of a recovered task is read with --data
    run = ftb("history", task_id, "--data", "--json")
    # Then the execution's input and the task's result are there
    assert run.code == 0, run.err
    events = run.json()["events"]
    assert events[0]["input"]["taskId"] == task_id
    assert events[-1]["type"] == "ExecutionSucceeded"
    assert events[-1]["output"]["taskId"] == task_id
    assert run.json()["summary"]["billedStateTransitions"] == 1 + run.json()["summary"]["retries"]


def test_logs_follow_the_task_through_every_function(
    ftb: Callable[..., Run], on_ops_cloud: Any, batch: Batch
) -> None:
    task_id = batch.exhausted[0]

    def complete() -> list[dict[str, Any]] | None:
        lines: list[dict[str, Any]] = ftb("logs", task_id, "--json").json()
        return lines if "monitor-dlq" in {_source(line) for line in lines} else None

    # When its logs are read (the monitor's line arrives asynchronously)
    lines = wait_for(complete, 180, f"{task_id}'s dead-letter log line", interval=1.0)
    # Then they come from every function on its path, time-ordered, and only about this task
    sources = {_source(line) for line in lines}
    assert {"submit-task", "start-execution", "process-task", "monitor-dlq"} <= sources
    assert [line["timestamp"] for line in lines] == sorted(line["timestamp"] for line in lines)
    for line in lines:
        fields = line.get("fields") or {}
        assert fields.get("taskId", task_id) == task_id
    attempts = [
        line["fields"]["attempt"]
        for line in lines
        if (line.get("fields") or {}).get("message") == "Task failed"
    ]
    assert attempts == [1, 2, 3]
    dead_letter = [
        line for line in lines if (line.get("fields") or {}).get("message") == "Task dead-lettered"
    ]
    assert dead_letter and dead_letter[0]["fields"]["error"] == "TransientTaskError"


def test_logs_query_runs_insights_on_the_local_cloud(
    ftb: Callable[..., Run], on_ops_cloud: Any, batch: Batch
) -> None:
    task_id = batch.exhausted[0]
    # When an Insights query counts the task's lines per log group on the local cloud
    run = ftb(
        "logs",
        "--query",
        f"filter taskId = '{task_id}' | stats count(*) as lines by @log | sort lines desc",
        "--since",
        "2h",
        "--json",
    )
    # Then it answers from every function on the task's path, one row per log group
    assert run.code == 0, run.err
    rows = run.json()
    groups = {row["@log"].split("FaultTolerantBackend-", 1)[-1] for row in rows}
    assert {"submit-task", "start-execution", "process-task"} <= groups
    assert all(int(row["lines"]) > 0 for row in rows)
    counts = [int(row["lines"]) for row in rows]
    assert counts == sorted(counts, reverse=True)


def test_logs_query_refuses_a_malformed_query(ftb: Callable[..., Run], on_ops_cloud: Any) -> None:
    # When the query does not parse
    run = ftb("logs", "--query", "fields @message | frobnicate")
    # Then exit code 2, with the endpoint's reason and how to fix it
    assert run.code == 2
    assert "malformed" in run.err and "frobnicate" in run.err


def test_dead_letters_list_every_failed_task(
    ftb: Callable[..., Run], on_ops_cloud: Any, batch: Batch
) -> None:
    # When the dead letters are listed
    run = ftb("dead-letters", "--json")
    # Then every failed task of the batch is there, from the workflow, with its error
    assert run.code == 0, run.err
    mine = {item["taskId"]: item for item in run.json() if item["taskId"] in batch.ids}
    assert set(mine) == batch.failed
    assert all(item["source"] == "workflow" and not item["redriven"] for item in mine.values())
    assert {mine[task_id]["error"] for task_id in batch.exhausted} == {"TransientTaskError"}


def test_redrive_after_the_fix(ftb: Callable[..., Run], on_ops_cloud: Any, batch: Batch) -> None:
    succeeded = batch.retried[0]
    # Given a task that succeeded: a redrive is refused
    refused = ftb("redrive", succeeded, "--json")
    assert refused.code == 1
    assert refused.json()[0]["reason"].startswith("succeeded")
    # When the fix is shipped as the README does (`ftb set-env process-task FAILURE_RATE=0`)
    fix = ftb("set-env", "process-task", "FAILURE_RATE=0", "--json")
    assert fix.code == 0, fix.err
    assert fix.json()["changes"] == [
        {"key": "FAILURE_RATE", "before": str(CLOUD_FAILURE_RATE), "after": "0"}
    ]
    # ... and every failed task is redriven, waiting
    run = ftb("redrive", "--all-failed", "--wait", "--json")
    results = {item["taskId"]: item for item in run.json() if item["taskId"] in batch.ids}
    # Then each task that ran out of retries got a second run under {taskId}-r1, and it
    # succeeded; the permanent failures were left alone (exit code 0)
    assert set(results) == set(batch.exhausted)
    assert all(item["executionName"] == f"{task_id}-r1" for task_id, item in results.items())
    assert {item["finalStatus"] for item in results.values()} == {"SUCCEEDED"}
    assert run.code == 0, run.err
    # When the permanent failures are included
    run = ftb("redrive", "--all-failed", "--include-permanent", "--wait", "--json")
    results = {item["taskId"]: item for item in run.json() if item["taskId"] in batch.ids}
    # Then they run again and fail again (exit code 1), each with its next step
    assert set(results) == set(batch.permanent)
    assert {item["finalStatus"] for item in results.values()} == {"FAILED"}
    assert all("PermanentTaskError" in item["reason"] for item in results.values())
    assert all(item["next"].startswith("see why with `ftb history") for item in results.values())
    assert run.code == 1
    # And status shows the latest run; the first run's history is still there
    recovered = batch.exhausted[0]
    status = ftb("status", recovered, "--json").json()[0]
    assert status["status"] == "SUCCEEDED"
    assert status["executionArn"].endswith(f":{recovered}-r1")
    first = ftb("history", recovered, "--run", "1", "--json")
    assert first.code == 0 and first.json()["summary"]["status"] == "FAILED"
    latest = ftb("history", recovered, "--json")
    assert latest.code == 0 and latest.json()["run"] == 2
    # And only the permanent failures are still failed; the dead letters say who was redriven
    still_failed = ftb("tasks", "--status", "FAILED", "--limit", "1000", "--json").json()
    assert {t["taskId"] for t in still_failed if t["taskId"] in batch.ids} == set(batch.permanent)
    letters = [i for i in ftb("dead-letters", "--json").json() if i["taskId"] == recovered]
    assert [(i["executionName"], i["redriven"]) for i in letters] == [(recovered, True)]
