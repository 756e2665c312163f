"""`ftb status` against a fake task API: exit codes and output shape (tasks: test_session.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.ops import FakeApi, Run


def test_a_succeeded_task_exits_0(ftb: Callable[..., Run], fake_api: FakeApi) -> None:
    # Given a known task that succeeded
    fake_api.tasks["good-1"] = {}
    # When its status is asked
    run = ftb("status", "good-1", "--json")
    # Then it is SUCCEEDED and the exit code is 0
    assert run.code == 0, run.err
    assert run.json() == [{"taskId": "good-1", "status": "SUCCEEDED", "result": {}}]


def test_a_failed_or_unknown_task_exits_1(ftb: Callable[..., Run], fake_api: FakeApi) -> None:
    # Given a failed task and a task nobody submitted
    fake_api.tasks["bad-3"] = {}
    # When their status is asked, in a table
    run = ftb("status", "bad-3", "nobody")
    # Then both are shown (the failure with the API's message) and the exit code is 1
    assert run.code == 1
    assert "FAILED" in run.out and "PermanentTaskError: it ends in 3" in run.out
    assert "UNKNOWN" in run.out
    assert "ftb redrive bad-3" in run.err


def test_a_malformed_task_id_is_a_usage_error(ftb: Callable[..., Run], fake_api: FakeApi) -> None:
    # When the taskId cannot be a taskId
    with pytest.raises(SystemExit) as exit_:
        ftb("status", "not a task id")
    # Then argparse refuses it with exit code 2 before any request
    assert exit_.value.code == 2
    assert fake_api.requests == []
