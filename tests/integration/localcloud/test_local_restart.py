"""A restart keeps every accepted task (issue 10, item 2): `ftb local` in a subprocess, stopped
with Ctrl-C while tasks are in flight or killed with SIGKILL, started again on the same state
file; `--fresh` starts empty; an incompatible or corrupt saved state is refused whole."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.support.local_cloud import REPO_ROOT, LocalCloudProcess, wait_for

pytestmark = pytest.mark.timeout(600)

TERMINAL_EVENTS = {"ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"}


def ftb(cloud: LocalCloudProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ftb.cli", *args, "--state-file", str(cloud.state_file)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def restart(cloud: LocalCloudProcess, *args: str) -> LocalCloudProcess:
    """The same cloud (same state file, hence the same saved state), started again."""
    again = LocalCloudProcess(cloud.name, list(args), cloud.state_file.parent)
    again.log_file = cloud.log_file.with_name(f"{cloud.log_file.stem}-{id(again)}.log")
    again.start()
    return again.wait_ready()


def statuses(cloud: LocalCloudProcess, task_ids: list[str]) -> dict[str, str]:
    return {task_id: cloud.get_task(task_id).json().get("status", "?") for task_id in task_ids}


def wait_all_ended(cloud: LocalCloudProcess, task_ids: list[str], timeout: float = 240) -> None:
    def ended() -> bool:
        return all(s in ("SUCCEEDED", "FAILED") for s in statuses(cloud, task_ids).values())

    wait_for(ended, timeout, f"{len(task_ids)} tasks to end", interval=1.0)


def executions(cloud: LocalCloudProcess) -> list[dict[str, Any]]:
    pages = cloud.client("stepfunctions").get_paginator("list_executions")
    found: list[dict[str, Any]] = []
    for page in pages.paginate(stateMachineArn=cloud.outputs["StateMachineArn"]):
        found.extend(page["executions"])
    return found


def assert_one_terminal_outcome_each(cloud: LocalCloudProcess, task_ids: list[str]) -> None:
    names = Counter(e["name"] for e in executions(cloud))
    assert {task_id: names[task_id] for task_id in task_ids} == dict.fromkeys(task_ids, 1)
    for task_id in task_ids:
        types = [event["type"] for event in cloud.history(task_id)]
        assert types.count("ExecutionStarted") == 1, (task_id, types)
        assert sum(1 for t in types if t in TERMINAL_EVENTS) == 1, (task_id, types)


def test_ctrl_c_with_tasks_in_flight_then_every_task_ends_once(tmp_path: Path) -> None:
    # Given a cloud (no drain time: executions still running at Ctrl-C are saved as running)
    # with earlier tasks that have ended, one of them dead-lettered, and a configuration change
    cloud = LocalCloudProcess("restart", ["--drain-seconds", "0", "--quiet"], tmp_path)
    cloud.start()
    cloud.wait_ready()
    changed = ftb(cloud, "set-env", "process-task", "FAILURE_RATE=0.5", "FAILURE_SEED=restart")
    assert changed.returncode == 0, changed.stderr
    earlier = ["earlier-1", "earlier-3"]
    for task_id in earlier:
        assert cloud.submit(task_id).status == 202
    wait_all_ended(cloud, earlier)
    # When 40 tasks are accepted and Ctrl-C comes while they are in flight
    burst = [f"burst-{n:02d}" for n in range(40)]
    for task_id in burst:
        assert cloud.submit(task_id).status == 202
    assert cloud.stop() == 0
    stop_log = cloud.log_file.read_text(errors="replace")
    assert "state saved to" in stop_log, cloud.log_tail()

    # And the cloud is started again on the same state
    again = restart(cloud, "--quiet")
    try:
        banner = again.log_file.read_text(errors="replace")
        assert "restored the state saved" in banner, banner
        # Then every accepted task reaches exactly one terminal outcome
        wait_all_ended(again, earlier + burst)
        assert_one_terminal_outcome_each(again, earlier + burst)
        # And the earlier tasks stay readable: status, history, logs, dead letters
        assert statuses(again, earlier) == {"earlier-1": "SUCCEEDED", "earlier-3": "FAILED"}
        succeeded = ftb(again, "status", "earlier-1")
        assert succeeded.returncode == 0 and "SUCCEEDED" in succeeded.stdout, succeeded
        failed = ftb(again, "status", "earlier-3")  # exit 1: a task failed, as documented
        assert failed.returncode == 1 and "FAILED" in failed.stdout, failed
        history = ftb(again, "history", "earlier-3")  # exit 0: it showed the history
        assert history.returncode == 0 and "ExecutionFailed" in history.stdout, history
        logs = ftb(again, "logs", "earlier-3")
        assert "dead-lettered" in logs.stdout and "monitor-dlq" in logs.stdout, logs.stdout
        # And the configuration change is still in force
        configuration = again.client("lambda").get_function_configuration(
            FunctionName=again.function_name("process-task")
        )
        assert configuration["Environment"]["Variables"]["FAILURE_SEED"] == "restart"
    finally:
        again.stop()


def test_a_hard_kill_restores_the_last_checkpoint_and_fresh_starts_empty(tmp_path: Path) -> None:
    # Given tasks that have ended, and a checkpoint taken after they did
    cloud = LocalCloudProcess("killed", ["--set-env", "process-task:FAILURE_RATE=0"], tmp_path)
    cloud.start()
    cloud.wait_ready()
    tasks = [f"kill-{n}" for n in (0, 1, 2, 4, 5, 6, 7, 8)]  # none ends in 3: all succeed
    for task_id in tasks:
        assert cloud.submit(task_id).status == 202
    wait_all_ended(cloud, tasks)
    snapshot = tmp_path / "killed.state.saved" / "snapshot.json"

    def checkpointed() -> bool:
        if not snapshot.exists():
            return False
        saved = json.loads(snapshot.read_bytes())["services"]["stepfunctions"]
        ended = [
            e
            for machine in saved["stateMachines"].values()
            for e in machine["executions"]
            if e["status"] != "RUNNING"
        ]
        return len(ended) == len(tasks)

    wait_for(checkpointed, 30, "a checkpoint with every task ended")
    # When the cloud is killed (no chance to save) and started again
    assert cloud.process is not None
    cloud.process.send_signal(signal.SIGKILL)
    cloud.process.wait(30)
    again = restart(cloud, "--set-env", "process-task:FAILURE_RATE=0")
    try:
        # Then the checkpoint's tasks are there, as they ended, and new work carries on
        assert statuses(again, tasks) == dict.fromkeys(tasks, "SUCCEEDED")
        assert_one_terminal_outcome_each(again, tasks)
        assert again.submit("after-kill").status == 202
        again.wait_for_status("after-kill", "SUCCEEDED")
    finally:
        assert again.stop() == 0
    # When it is started with --fresh
    fresh = restart(cloud, "--fresh")
    try:
        # Then it is empty, and the previous state is set aside, not deleted
        assert fresh.get_task("kill-0").status == 404
        assert executions(fresh) == []
        assert (tmp_path / "killed.state.saved" / "snapshot.set-aside.json").exists()
    finally:
        fresh.stop()


def refused_start(cloud: LocalCloudProcess) -> tuple[int, str]:
    """Start on the saved state, expecting a refusal: (exit code, output)."""
    attempt = LocalCloudProcess(cloud.name, [], cloud.state_file.parent)
    attempt.log_file = cloud.log_file.with_name(f"{cloud.log_file.stem}-refused.log")
    attempt.start()
    assert attempt.process is not None
    code = attempt.process.wait(180)
    return code, attempt.log_file.read_text(errors="replace")


def test_an_incompatible_or_corrupt_saved_state_is_refused_whole(tmp_path: Path) -> None:
    # Given a saved state with a task in it
    cloud = LocalCloudProcess("refusals", ["--set-env", "process-task:FAILURE_RATE=0"], tmp_path)
    cloud.start()
    cloud.wait_ready()
    assert cloud.submit("kept-1").status == 202
    cloud.wait_for_status("kept-1", "SUCCEEDED")
    assert cloud.stop() == 0
    snapshot = tmp_path / "refusals.state.saved" / "snapshot.json"
    good = snapshot.read_bytes()

    # When it claims a queue this template does not have (saved by another template)
    document = json.loads(good)
    document["shape"]["queues"]["GoneQueue"] = {"fifo": False}
    document["services"]["sqs"]["queues"]["GoneQueue"] = {"fifo": False, "messages": []}
    snapshot.write_text(json.dumps(document))
    code, output = refused_start(cloud)
    # Then the start is refused with one clear message, and the saved state is left as it was
    assert code == 2, output
    assert "incompatible template" in output and "queue GoneQueue" in output, output
    assert "Traceback" not in output
    assert json.loads(snapshot.read_bytes()) == document

    # When the snapshot is corrupt
    snapshot.write_bytes(good[: len(good) // 2])
    code, output = refused_start(cloud)
    assert code == 2 and "is corrupt" in output and "Traceback" not in output, output

    # When a save was interrupted half-way (a partial file next to the good snapshot)
    snapshot.write_bytes(good)
    shutil.copy(snapshot, snapshot.with_name("snapshot.json.partial"))
    with snapshot.with_name("snapshot.json.partial").open("r+b") as partial:
        partial.truncate(100)
    again = restart(cloud)
    try:
        # Then the last complete snapshot is restored, and the start says so
        assert "a save interrupted half-way was discarded" in again.log_file.read_text()
        assert again.get_task("kept-1").json()["status"] == "SUCCEEDED"
    finally:
        again.stop()
