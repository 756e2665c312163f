"""The checkpoint thread never stops for good: any error is said once, the last good snapshot
is kept, the next interval tries again, and the live view always shows the last good
checkpoint's age (and the failure while it lasts)."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from rich.console import Console

from ftb.localcloud.lambda_runtime import FunctionSpec, LambdaRuntime
from ftb.localcloud.live_view import Counters, LiveView, Snapshot, Sources, render
from ftb.localcloud.local import LocalCloud, LocalOptions
from ftb.localcloud.persistence import CheckpointHealth, StateKeeper
from ftb.localcloud.terminal import Mode

REGION = "us-east-1"


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[LambdaRuntime]:
    runtime = LambdaRuntime("http://127.0.0.1:9", REGION, ship_logs=False)
    runtime.register(
        FunctionSpec(
            name="work",
            arn=f"arn:aws:lambda:{REGION}:123456789012:function:work",
            code_dir=tmp_path,
            handler="app.handler",
            environment={},
            timeout_seconds=3,
        )
    )
    yield runtime
    runtime.shutdown()


def _wait_for(condition: Callable[[], bool], what: str, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.01)


class _Failing:
    """A store's write that raises the given errors, in turn, then writes."""

    def __init__(self, write: Callable[[dict[str, Any]], int], errors: list[Exception]) -> None:
        self.write = write
        self.errors = errors
        self.attempts = 0

    def __call__(self, document: dict[str, Any]) -> int:
        self.attempts += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.write(document)


class _Sqs:
    def get_queue_attributes(self, **_: Any) -> dict[str, Any]:
        return {"Attributes": {}}


class _StepFunctions:
    def get_paginator(self, _: str) -> Any:
        class _Pages:
            def paginate(self, **_: Any) -> list[dict[str, Any]]:
                return [{"executions": []}]

        return _Pages()


def test_the_checkpoint_thread_survives_any_error_and_says_so_once(
    tmp_path: Path, runtime: LambdaRuntime
) -> None:
    with mock_aws():
        # Given a cloud whose state was saved once, and a disk that then fails three times
        # (twice the same way, once with an error nobody foresaw) before it works again
        boto3.client("sqs", region_name=REGION).create_queue(QueueName="work")
        said: list[str] = []
        warned: list[str] = []
        keeper = StateKeeper(
            tmp_path / "saved", REGION, said.append, checkpoint_seconds=0.05, warn=warned.append
        )
        keeper.load(fresh=False)
        keeper.restore(runtime, None)
        assert keeper.save() is not None
        good = keeper.store.path.read_bytes()
        good_at = keeper.checkpoint_health().last_good_at
        failing = _Failing(
            keeper.store.write,
            [
                OSError(28, "No space left on device"),
                OSError(28, "No space left on device"),
                RuntimeError("a bug in a capture"),
            ],
        )
        keeper.store.write = failing  # type: ignore[method-assign]
        views: list[CheckpointHealth] = []
        console = Console(file=io.StringIO(), width=200)
        view = LiveView(
            "Stack",
            Sources(
                _StepFunctions(),
                _Sqs(),
                [],
                [],
                lambda: 0,
                checkpoint=lambda: (keeper.checkpoint_health().line(), False),
            ),
            Counters(),
            console,
        )

        # When something changes and the checkpoints run
        keeper.gate.changed()
        keeper.start_checkpoints()
        try:
            _wait_for(lambda: failing.attempts >= 1, "a first failed attempt")
            views.append(keeper.checkpoint_health())
            view.poll()
            _wait_for(lambda: failing.attempts >= 4, "a good attempt after three failures")
            _wait_for(lambda: keeper.checkpoint_health().failure is None, "recovered")
        finally:
            keeper.stop_checkpoints()

    # Then while it failed, the previous snapshot stayed, the failure and the last good one's
    # age were visible (in the live view too)
    failed = views[0]
    assert failed.failure == "OSError: [Errno 28] No space left on device"
    assert failed.last_good_at == good_at is not None
    assert re.match(
        r"last good checkpoint \d+ s ago; the last 1 attempt\(s\) failed", failed.line()
    )
    assert "No space left on device" in view.snapshot.checkpoint
    console.print(render("Stack", view.snapshot))
    assert "Saved state" in console.file.getvalue()  # type: ignore[attr-defined]
    # And each distinct failure was said once (with where the unforeseen one was raised),
    # then the recovery; the thread went on and the next good checkpoint was written
    assert len(warned) == 3, warned
    assert "checkpoint failed (OSError: [Errno 28] No space left on device)" in warned[0]
    assert re.search(r"the last good one \(\d+ s ago\) .* is kept", warned[0])
    assert "RuntimeError: a bug in a capture (at test_persistence_checkpoints.py:" in warned[1]
    assert warned[2] == "checkpoints work again, after 3 failed"
    assert keeper.store.path.read_bytes() != good  # a newer snapshot
    health = keeper.checkpoint_health()
    assert (health.failure, health.failures_in_a_row) == (None, 0)
    assert health.last_good_at is not None and good_at is not None
    assert health.last_good_at > good_at
    assert re.fullmatch(r"last saved \d+ s ago", health.line())


def test_the_view_shows_a_failing_checkpoint_in_red_and_the_age_always() -> None:
    # Given checkpoints that last worked ten minutes ago and now fail
    health = CheckpointHealth(
        enabled=True, last_good_at=time.time() - 600, failure="OSError: disk full"
    )
    health.failures_in_a_row = 300
    snapshot = Snapshot(checkpoint=health.line(), checkpoint_failing=True)
    console = Console(file=io.StringIO(), width=200)
    # When the view is drawn
    console.print(render("Stack", snapshot))
    # Then it says how old the last good one is, and why the last attempt failed
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert re.search(
        r"Saved state +last good checkpoint 10 min ago; the last 300 attempt\(s\) failed: "
        r"OSError: disk full",
        text,
    )
    # And with checkpoints off, or none taken yet, it says that
    assert CheckpointHealth(False, None, None).line() == "at Ctrl-C only (--checkpoint-seconds 0)"
    assert CheckpointHealth(True, None, None).line() == "last saved none yet"


def test_in_quiet_mode_a_failed_checkpoint_is_an_attention_line_and_logged(
    tmp_path: Path,
) -> None:
    # Given a cloud in --quiet mode (no live view)
    cloud = LocalCloud(
        LocalOptions(root=tmp_path, output=Mode.QUIET, state_file=tmp_path / "local.json")
    )
    cloud.terminal.console = Console(file=io.StringIO(), width=200)
    # When its keeper reports a failed checkpoint
    cloud.keeper.warn("checkpoint failed (OSError: disk full)")
    cloud.terminal.close()
    # Then the terminal shows it and the cloud's log keeps it
    shown = cloud.terminal.console.file.getvalue()  # type: ignore[attr-defined]
    assert "ftb local: checkpoint failed (OSError: disk full)" in shown
    assert (
        "checkpoint failed (OSError: disk full)" in (tmp_path / "local.functions.log").read_text()
    )
