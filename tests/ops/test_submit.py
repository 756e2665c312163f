"""`ftb submit` against a fake task API (the HTTP details); the local-cloud run: test_session."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.ops import FakeApi, Run


def test_one_task_is_accepted(ftb: Callable[..., Run], fake_api: FakeApi) -> None:
    # Given the API runs (behind a local-cloud state file)
    # When one task is submitted with an inline payload
    run = ftb("submit", "--task-id", "task123", "--payload", '{"data": "test data"}', "--json")
    # Then it is accepted, the payload went through as given, and the exit code is 0
    assert run.code == 0, run.err
    assert run.json()["accepted"] == 1
    assert fake_api.tasks == {"task123": {"data": "test data"}}


def test_payload_from_a_file(ftb: Callable[..., Run], fake_api: FakeApi, tmp_path: Path) -> None:
    # Given a payload file
    payload = tmp_path / "payload.json"
    payload.write_text('{"n": 1, "nested": {"x": [1, 2]}}', encoding="utf-8")
    # When it is submitted with @file
    run = ftb("submit", "--task-id", "from-file", "--payload", f"@{payload}")
    # Then the API got exactly that payload, and the summary says so
    assert run.code == 0, run.err
    assert fake_api.tasks["from-file"] == {"n": 1, "nested": {"x": [1, 2]}}
    assert "1 accepted" in run.out


def test_generated_tasks_respect_the_concurrency_limit_and_resubmission_is_duplicate(
    ftb: Callable[..., Run], fake_api: FakeApi
) -> None:
    # Given no rate limit and at most 3 requests in flight
    # When 24 generated tasks are submitted
    first = ftb(
        "submit",
        "--count",
        "24",
        "--prefix",
        "batch",
        "--rate",
        "0",
        "--concurrency",
        "3",
        "--json",
    )
    # Then all are accepted, with ids batch-0001..batch-0024, never more than 3 at once
    assert first.code == 0, first.err
    assert first.json()["accepted"] == 24
    assert sorted(fake_api.tasks) == [f"batch-{n:04d}" for n in range(1, 25)]
    assert 1 < fake_api.max_in_flight <= 3
    # When the same batch is submitted again
    again = ftb("submit", "--count", "24", "--prefix", "batch", "--rate", "0", "--json")
    # Then every task is a duplicate (nothing new accepted)
    assert again.json()["duplicates"] == 24
    assert again.json()["accepted"] == 0


def test_the_rate_limit_spaces_requests(ftb: Callable[..., Run], fake_api: FakeApi) -> None:
    # Given a rate of 10 per second and plenty of concurrency
    # When 6 tasks are submitted
    run = ftb("submit", "--count", "6", "--rate", "10", "--concurrency", "6", "--json")
    # Then the 6 requests span at least ~5 intervals of 0.1 s
    assert run.code == 0, run.err
    times = sorted(moment for method, _, moment in fake_api.requests if method == "POST")
    assert len(times) == 6
    assert times[-1] - times[0] >= 0.4


def test_rejections_are_grouped_by_status_and_reason(
    ftb: Callable[..., Run], fake_api: FakeApi, tmp_path: Path
) -> None:
    # Given a JSON-lines file with new tasks, a conflicting reuse, bad ids and a broken line
    fake_api.tasks["taken"] = {"v": 1}
    lines = [
        {"taskId": "ok-1", "payload": {"v": 1}},
        {"taskId": "ok-2", "payload": {"v": 2}},
        {"taskId": "taken", "payload": {"v": 2}},
        {"taskId": "bad!1", "payload": {}},
        {"taskId": "bad!2", "payload": {}},
    ]
    path = tmp_path / "tasks.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n{not json\n\n", "utf-8")
    # When the file is submitted
    run = ftb("submit", "--file", str(path), "--rate", "0", "--json")
    # Then 2 are accepted and the rejections are grouped with their reasons; exit code 1
    assert run.code == 1
    summary = run.json()
    assert (summary["accepted"], summary["duplicates"], summary["rejected"]) == (2, 0, 4)
    groups = {(g["status"], g["count"]): g for g in summary["rejections"]}
    assert groups[(400, 2)]["taskIds"] == ["bad!1", "bad!2"]
    assert "taskId: must be" in groups[(400, 2)]["message"]
    assert groups[(409, 1)]["taskIds"] == ["taken"]
    assert "different payload" in groups[(409, 1)]["message"]
    assert groups[(0, 1)]["taskIds"] == ["line 6"]
    assert "not JSON" in groups[(0, 1)]["message"]


def test_the_table_summary_names_the_reasons(
    ftb: Callable[..., Run], fake_api: FakeApi, tmp_path: Path
) -> None:
    # Given one conflicting task
    fake_api.tasks["taken"] = {"v": 1}
    path = tmp_path / "tasks.jsonl"
    path.write_text(json.dumps({"taskId": "taken", "payload": {"v": 2}}) + "\n", "utf-8")
    # When it is submitted without --json
    run = ftb("submit", "--file", str(path))
    # Then the summary line and the rejection table are printed
    assert run.code == 1
    assert "0 accepted" in run.out and "1 rejected" in run.out
    assert "409" in run.out and "different payload" in run.out


def test_throttling_and_5xx_are_retried(ftb: Callable[..., Run], fake_api: FakeApi) -> None:
    # Given the API answers 429 then 503 before accepting the task
    fake_api.script["flaky"] = [429, 503]
    # When the task is submitted
    run = ftb("submit", "--task-id", "flaky", "--json")
    # Then it is accepted after two retries
    assert run.code == 0, run.err
    assert run.json()["accepted"] == 1
    assert [path for method, path, _ in fake_api.requests if method == "POST"] == ["/tasks"] * 3


def test_a_payload_that_is_not_json_is_a_usage_error(
    ftb: Callable[..., Run], fake_api: FakeApi
) -> None:
    # When the payload is not JSON
    run = ftb("submit", "--task-id", "x", "--payload", "{nope")
    # Then nothing is sent, the exit code is 2 and the error says what to do next
    assert run.code == 2
    assert "is not JSON" in run.err and "next:" in run.err
    assert fake_api.requests == []


def test_without_a_local_cloud_or_stack_the_error_says_how_to_get_one(
    ftb: Callable[..., Run], monkeypatch, tmp_path: Path
) -> None:
    # Given no local cloud state file and no --stack
    monkeypatch.setenv("FTB_STATE_FILE", str(tmp_path / "absent.json"))
    monkeypatch.delenv("FTB_STACK", raising=False)
    # When a task is submitted
    run = ftb("submit", "--task-id", "x")
    # Then exit code 2, and the message says to start the local cloud or pass --stack
    assert run.code == 2
    assert "not running" in run.err
    assert "make run" in run.err and "--stack" in run.err


def _dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_once_the_cloud_is_gone_submit_stops_retrying_and_says_so(
    ftb: Callable[..., Run], fake_api: FakeApi
) -> None:
    # Given a local cloud whose API no longer listens (connections are refused)
    state = json.loads(fake_api.state_file.read_text("utf-8"))
    state["outputs"]["TasksEndpoint"] = f"http://127.0.0.1:{_dead_port()}/tasks"
    fake_api.state_file.write_text(json.dumps(state), "utf-8")
    # When 40 tasks are submitted, 2 at a time
    run = ftb("submit", "--count", "40", "--rate", "0", "--concurrency", "2")
    # Then the first refusals stop it: the rest are not sent, and it says why and what to do
    assert run.code == 1
    assert "the API stopped answering (connection refused)" in run.err
    assert "is the local cloud still running (`make run`)?" in run.err
    not_sent = int(re.search(r"so (\d+) task\(s\) were not sent", run.err).group(1))  # type: ignore[union-attr]
    assert not_sent >= 40 - 2 * 2  # at most the requests already queued to the 2 workers
    # And the no-answer rows carry status 0, as documented (docs/operations.md)
    rows = [line for line in run.out.splitlines() if "no answer" in line or "not sent" in line]
    assert rows and all(re.match(r"│\s*0\s*│", row) for row in rows), run.out


def test_a_table_piped_to_a_file_keeps_each_row_on_one_line(
    ftb: Callable[..., Run], fake_api: FakeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given stdout is not a terminal and no COLUMNS says how wide it is
    monkeypatch.delenv("COLUMNS")
    fake_api.tasks["taken"] = {"v": 1}
    reason_ids = [f"bad!{n}-{'x' * 30}" for n in range(3)]
    lines = [{"taskId": "taken", "payload": {"v": 2}}] + [
        {"taskId": task_id, "payload": {}} for task_id in reason_ids
    ]
    path = tmp_path / "tasks.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", "utf-8")
    # When the rejections are printed as a table
    run = ftb("submit", "--file", str(path), "--rate", "0")
    # Then each row is one line, wider than 80 columns, with its full reason and task ids
    rows = [line for line in run.out.splitlines() if line.startswith("│ 400")]
    assert len(rows) == 1, run.out
    assert all(task_id in rows[0] for task_id in reason_ids)
    assert "taskId: must be" in rows[0] and len(rows[0]) > 80
