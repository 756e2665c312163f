"""Swapping a function's code in the local Lambda runtime, as Lambda's UpdateFunctionCode does:
invocations that start after the swap run the new code, running ones finish on the old, and
callers waiting for a worker are not failed by the swap."""

from __future__ import annotations

import dataclasses
import io
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from ftb.localcloud.function_log import FunctionLog
from ftb.localcloud.lambda_runtime import FunctionSpec, LambdaRuntime, ResourceNotFoundError
from ftb.localcloud.lambda_runtime.runtime import TRIAL_MARK
from ftb.localcloud.live_view import Snapshot
from ftb.localcloud.terminal import Mode, Terminal
from tests.support.local_endpoint import function_arn

VERSION = """
import time

def handler(event, context):
    time.sleep(event.get("seconds", 0))
    return {{"version": {version}}}
"""


def quiet(function_name: str, line: str) -> None:
    """An echo that prints nothing."""


def code(tmp_path: Path, name: str, text: str) -> Path:
    directory = tmp_path / name
    directory.mkdir()
    (directory / "app.py").write_text(text, encoding="utf-8")
    return directory


@pytest.fixture
def runtime() -> Any:
    # One worker per function: a second caller has to wait for it.
    runtime = LambdaRuntime(
        "http://127.0.0.1:9", ship_logs=False, echo=quiet, max_concurrency_default=1
    )
    yield runtime
    runtime.shutdown()


def call(runtime: LambdaRuntime, event: dict[str, Any], into: list[Any]) -> threading.Thread:
    def run() -> None:
        result = runtime.invoke("fn", json.dumps(event).encode())
        into.append(json.loads(result.payload))

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_running_invocations_finish_on_the_old_code_and_later_ones_run_the_new(
    runtime: LambdaRuntime, tmp_path: Path
) -> None:
    # Given version 1 running a 2-second invocation, and a second caller waiting for the
    # function's only worker
    spec = FunctionSpec(
        "fn", function_arn("fn"), code(tmp_path, "v1", VERSION.format(version=1)), "app.handler", {}
    )
    runtime.register(spec)
    running: list[Any] = []
    waiting: list[Any] = []
    first = call(runtime, {"seconds": 2}, running)
    deadline = time.monotonic() + 30  # bounds the wait only
    while not runtime.worker_pids("fn") and time.monotonic() < deadline:
        time.sleep(0.02)
    second = call(runtime, {}, waiting)

    # When version 2 is prepared (imported in a fresh worker) and swapped in
    new = dataclasses.replace(spec, code_dir=code(tmp_path, "v2", VERSION.format(version=2)))
    pool, error = runtime.prepare(new)
    assert error is None
    runtime.commit(pool)
    first.join(30)
    second.join(30)

    # Then the running invocation finished on version 1, the waiting one ran version 2
    assert running == [{"version": 1}]
    assert waiting == [{"version": 2}]
    assert json.loads(runtime.invoke("fn", b"{}").payload) == {"version": 2}


def test_code_that_does_not_import_is_refused_and_the_old_version_serves_on(
    runtime: LambdaRuntime, tmp_path: Path
) -> None:
    # Given version 1
    spec = FunctionSpec(
        "fn", function_arn("fn"), code(tmp_path, "v1", VERSION.format(version=1)), "app.handler", {}
    )
    runtime.register(spec)
    # When a version whose module fails at import is prepared
    broken = dataclasses.replace(
        spec, code_dir=code(tmp_path, "bad", "import module_that_does_not_exist\n")
    )
    pool, error = runtime.prepare(broken)
    runtime.discard(pool)
    # Then the import error is reported as Lambda reports it, and version 1 still answers
    assert error is not None and error["errorType"] == "Runtime.ImportModuleError"
    assert "module_that_does_not_exist" in error["errorMessage"]
    assert json.loads(runtime.invoke("fn", b"{}").payload) == {"version": 1}


def test_a_removed_function_is_not_found(runtime: LambdaRuntime, tmp_path: Path) -> None:
    spec = FunctionSpec(
        "fn", function_arn("fn"), code(tmp_path, "v1", VERSION.format(version=1)), "app.handler", {}
    )
    runtime.register(spec)
    runtime.remove("fn")
    with pytest.raises(ResourceNotFoundError):
        runtime.invoke("fn", b"{}")


def test_an_invocation_whose_worker_is_starting_during_a_swap_finishes_on_the_old_code(
    runtime: LambdaRuntime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given version 1's first invocation, held while its worker starts (as when its fork
    # server is still importing the shared libraries)
    v1 = code(tmp_path, "v1", VERSION.format(version=1))
    spec = FunctionSpec("fn", function_arn("fn"), v1, "app.handler", {})
    runtime.register(spec)
    starting, swapped = threading.Event(), threading.Event()
    fork_server = runtime._fork_server

    def slow_fork_server(task_root: str) -> Any:
        if Path(task_root) == v1:
            starting.set()
            swapped.wait(30)
        return fork_server(task_root)

    monkeypatch.setattr(runtime, "_fork_server", slow_fork_server)
    answers: list[Any] = []
    first = call(runtime, {}, answers)
    assert starting.wait(30)

    # When version 2 is swapped in before that worker has started
    new = dataclasses.replace(spec, code_dir=code(tmp_path, "v2", VERSION.format(version=2)))
    pool, error = runtime.prepare(new)
    assert error is None
    runtime.commit(pool)
    swapped.set()
    first.join(30)

    # Then the invocation is answered by the version it started on, not failed by the swap
    assert answers == [{"version": 1}]
    # And the next one runs version 2
    assert json.loads(runtime.invoke("fn", b"{}").payload) == {"version": 2}


def test_a_refused_trial_start_is_no_invocation_and_no_crash_in_the_terminal(
    tmp_path: Path,
) -> None:
    # Given a runtime whose lines reach the terminal of `ftb local`, serving version 1
    console_text = io.StringIO()
    terminal = Terminal(
        Mode.LIVE,
        FunctionLog(tmp_path / "functions.log"),
        Console(file=console_text, width=200, color_system=None, force_terminal=False),
    )
    runtime = LambdaRuntime("http://127.0.0.1:9", ship_logs=False, echo=terminal.function_line)
    try:
        spec = FunctionSpec(
            "fn",
            function_arn("fn"),
            code(tmp_path, "v1", VERSION.format(version=1)),
            "app.handler",
            {},
        )
        runtime.register(spec)
        # When a hot reload tries a version that does not import
        broken = dataclasses.replace(
            spec, code_dir=code(tmp_path, "bad", "import module_that_does_not_exist\n")
        )
        pool, error = runtime.prepare(broken)
        runtime.discard(pool)
        assert error is not None and error["errorType"] == "Runtime.ImportModuleError"
        # Then the terminal says nothing about a crash and counts no invocation or error
        terminal.close()
        assert console_text.getvalue() == ""
        snapshot = Snapshot()
        terminal.counters.copy_into(snapshot)
        assert snapshot.functions == {}
        # And the trial's lines are in the log file, marked as no invocation
        logged = (tmp_path / "functions.log").read_text()
        trial = [line for line in logged.splitlines() if TRIAL_MARK in line]
        assert any("REPORT RequestId" in line for line in trial), logged
        assert any("module_that_does_not_exist" in line for line in trial), logged
        # And a real invocation afterwards is counted as one
        assert json.loads(runtime.invoke("fn", b"{}").payload) == {"version": 1}
    finally:
        runtime.shutdown()
    snapshot = Snapshot()
    terminal.counters.copy_into(snapshot)
    assert snapshot.functions["fn"].invocations == 1
