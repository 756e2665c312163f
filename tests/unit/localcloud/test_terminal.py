"""What `ftb local` shows while it runs (ftb/localcloud/terminal.py, live_view.py) and where
function output goes (function_log.py): the signals, not a running cloud."""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from ftb.localcloud.function_log import FunctionLog, log_file_path
from ftb.localcloud.live_view import (
    MAX_FAILURE_LINES,
    Counters,
    FunctionCounts,
    LiveView,
    Snapshot,
    Sources,
    dead_letter_queue_urls,
    failure_line,
    render,
)
from ftb.localcloud.terminal import Mode, Terminal

REPORT_OK = "REPORT RequestId: r1\tDuration: 2.00 ms\tBilled Duration: 2 ms\tMemory Size: 256 MB"
TRACEBACK = '[ERROR] TransientTaskError: boom\rTraceback (most recent call last):\r  File "x"'


def _console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=200, color_system=None, force_terminal=False), buffer


def _terminal(mode: Mode, tmp_path: Path) -> tuple[Terminal, io.StringIO]:
    console, buffer = _console()
    return Terminal(mode, FunctionLog(tmp_path / "local.functions.log"), console), buffer


def test_by_default_function_output_goes_to_the_log_file_not_the_terminal(
    tmp_path: Path, capsys: Any
) -> None:
    # Given the default terminal
    terminal, shown = _terminal(Mode.LIVE, tmp_path)
    # When a function writes a traceback and finishes with an error, and the API answers
    terminal.function_line("process-task", TRACEBACK)
    terminal.function_line("process-task", REPORT_OK + "\tStatus: error\tError Type: Boom")
    terminal.api_line("POST /v1/tasks -> 202 (3 ms)")
    terminal.close()
    # Then nothing reaches the terminal, every line is in the log file, and they are counted
    assert shown.getvalue() == "" and capsys.readouterr().out == ""
    logged = (tmp_path / "local.functions.log").read_text()
    assert "Traceback (most recent call last):" in logged and "Status: error" in logged
    snapshot = Snapshot()
    terminal.counters.copy_into(snapshot)
    assert snapshot.accepted == 1
    assert (snapshot.functions["process-task"].invocations,) == (1,)
    assert snapshot.functions["process-task"].errors == 1


def test_verbose_echoes_every_function_line_and_request_as_before(
    tmp_path: Path, capsys: Any
) -> None:
    # Given --verbose
    terminal, _ = _terminal(Mode.VERBOSE, tmp_path)
    # When a function writes a multi-line record and the API answers
    terminal.function_line("process-task", TRACEBACK)
    terminal.api_line("POST /v1/tasks -> 202 (3 ms)")
    # Then each line is echoed with its source, as `ftb local` always did
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "    process-task | [ERROR] TransientTaskError: boom"
    assert out[1] == "    process-task | Traceback (most recent call last):"
    assert out[-1] == "             api | POST /v1/tasks -> 202 (3 ms)"


def test_crashes_timeouts_and_5xx_need_attention_in_every_mode(tmp_path: Path) -> None:
    for mode in (Mode.LIVE, Mode.QUIET):
        # Given a terminal that does not echo function output
        terminal, shown = _terminal(mode, tmp_path)
        # When an invocation crashes, one times out, one ends in a handled error, and the API
        # answers 502, 400 and 202
        terminal.function_line(
            "worker", REPORT_OK + "\tStatus: error\tError Type: Runtime.ExitError"
        )
        terminal.function_line("worker", REPORT_OK + "\tStatus: timeout")
        terminal.function_line("worker", REPORT_OK + "\tStatus: error\tError Type: ValueError")
        for status in (502, 400, 202):
            terminal.api_line(f"POST /v1/tasks -> {status} (3 ms)")
        # Then one line each for the crash, the timeout and the 502; nothing for the rest
        lines = shown.getvalue().splitlines()
        assert len(lines) == 3, lines
        assert "crashed (Runtime.ExitError)" in lines[0] and "timed out" in lines[1]
        assert lines[2] == "api: POST /v1/tasks -> 502 (3 ms)"
        terminal.close()


def test_a_failed_execution_is_one_line_with_the_error_and_the_cause_message() -> None:
    # Given a Lambda error's cause, as Step Functions records it (JSON with a stack trace)
    cause = json.dumps(
        {
            "errorMessage": "Task task-0013 cannot be processed (its id ends in 3)",
            "errorType": "PermanentTaskError",
            "stackTrace": ['  File "/var/task/process_task.py", line 29\n', "more\n"],
        }
    )
    # When it is put into a line
    line = failure_line("task-0013", "FAILED", "PermanentTaskError", cause).plain
    # Then it is one line: the status, the execution, the error and the message, no trace
    assert line == (
        "FAILED    task-0013  PermanentTaskError: "
        "Task task-0013 cannot be processed (its id ends in 3)"
    )


def test_the_view_is_a_few_lines_of_counts() -> None:
    # Given figures from every signal
    snapshot = Snapshot(
        uptime_seconds=83,
        api_by_status={202: 100, 200: 2, 400: 1},
        executions={"RUNNING": 3, "SUCCEEDED": 85, "FAILED": 12},
        dead_lettered=11,
        dead_letter_waiting=1,
    )
    snapshot.functions = {"process-task": FunctionCounts(invocations=140, errors=30)}
    console, buffer = _console()
    # When it is drawn
    console.print(render("Stack", snapshot))
    text = buffer.getvalue()
    # Then it fits in five lines and says what the stack did
    assert len(text.splitlines()) <= 5, text
    assert "100 accepted (202) · 2 other 2xx · 1 4xx · 0 5xx" in text
    assert "3 running · 85 succeeded · 12 failed" in text
    assert "11 delivered since start · 1 waiting" in text
    assert "process-task 30/140" in text
    assert "up 1m23s" in text


class _FakeStepFunctions:
    def __init__(self, executions: list[dict[str, Any]]) -> None:
        self.executions = executions
        self.described: list[str] = []

    def get_paginator(self, name: str) -> Any:
        assert name == "list_executions"
        executions = self.executions

        class Paginator:
            def paginate(self, **_: Any) -> list[dict[str, Any]]:
                return [{"executions": list(executions)}]

        return Paginator()

    def describe_execution(self, executionArn: str) -> dict[str, Any]:
        self.described.append(executionArn)
        return {"error": "TransientTaskError", "cause": "boom"}


class _FakeSqs:
    def get_queue_attributes(self, QueueUrl: str, AttributeNames: list[str]) -> dict[str, Any]:
        if "RedrivePolicy" in AttributeNames:
            policies = {
                "q/main": {
                    "QueueArn": "arn:main",
                    "RedrivePolicy": '{"deadLetterTargetArn": "arn:dlq"}',
                },
                "q/dlq": {"QueueArn": "arn:dlq"},
            }
            return {"Attributes": policies[QueueUrl]}
        return {
            "Attributes": {
                "ApproximateNumberOfMessages": "2",
                "ApproximateNumberOfMessagesNotVisible": "1",
            }
        }


def _execution(n: int, status: str) -> dict[str, Any]:
    return {"executionArn": f"arn:exec:{n}", "name": f"task-{n}", "status": status}


def test_the_dead_letter_queues_are_the_targets_of_redrive_policies() -> None:
    # Given a queue whose RedrivePolicy names another  Then that other is the dead-letter queue
    assert dead_letter_queue_urls(_FakeSqs(), ["q/main", "q/dlq"]) == ["q/dlq"]


def test_the_view_counts_executions_and_lists_each_new_failure_once() -> None:
    # Given a state machine with running, succeeded and failed executions
    sfn = _FakeStepFunctions([_execution(1, "RUNNING"), _execution(2, "SUCCEEDED")])
    console, buffer = _console()
    view = LiveView(
        "Stack",
        Sources(sfn, _FakeSqs(), ["arn:sm"], ["q/dlq"], lambda: 4),
        Counters(),
        console,
    )
    view.poll()  # the baseline: nothing failed yet
    sfn.executions += [_execution(3, "FAILED"), _execution(4, "TIMED_OUT")]
    # When it polls twice
    view.poll()
    view.poll()
    # Then each failure is one line, printed once, and the figures add up
    lines = buffer.getvalue().splitlines()
    assert lines == [
        "FAILED    task-3  TransientTaskError: boom",
        "TIMED_OUT task-4  TransientTaskError: boom",
    ]
    assert view.snapshot.executions == {"RUNNING": 1, "SUCCEEDED": 1, "FAILED": 1, "TIMED_OUT": 1}
    assert (view.snapshot.failed, view.snapshot.finished) == (2, 3)
    assert (view.snapshot.dead_lettered, view.snapshot.dead_letter_waiting) == (4, 3)


def test_past_the_limit_failures_are_counted_not_listed() -> None:
    # Given a view that has seen no failure yet
    sfn = _FakeStepFunctions([])
    console, buffer = _console()
    view = LiveView(
        "Stack", Sources(sfn, _FakeSqs(), ["arn:sm"], [], lambda: 0), Counters(), console
    )
    view.poll()
    # When many executions fail at once
    sfn.executions += [_execution(n, "FAILED") for n in range(MAX_FAILURE_LINES + 30)]
    view.poll()
    # Then MAX_FAILURE_LINES are listed, then one line says the rest are only counted
    lines = buffer.getvalue().splitlines()
    assert len(lines) == MAX_FAILURE_LINES + 1
    assert "counted in the view as not listed" in lines[-1]
    assert view.snapshot.failed == MAX_FAILURE_LINES + 30
    # And the view says how many it did not list
    assert view.snapshot.unlisted_failures == 30
    console.print(render("Stack", view.snapshot))
    assert f"{MAX_FAILURE_LINES + 30} failed (30 not listed above)" in buffer.getvalue()


def test_the_function_log_sits_next_to_the_state_file(tmp_path: Path) -> None:
    # Given the default state file  Then the log file is beside it, under .ftb/
    assert log_file_path(Path(".ftb/local.json")) == Path(".ftb/local.functions.log")
    # And multi-line records become one line each, with time and source
    log = FunctionLog(tmp_path / "x" / "f.log")
    log.write("fn", "a\rb")
    log.close()
    lines = (tmp_path / "x" / "f.log").read_text().splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == [
        "              fn | a",
        "              fn | b",
    ]


def test_only_the_default_mode_builds_a_view_and_a_broken_one_is_one_line(
    tmp_path: Path,
) -> None:
    built: list[str] = []

    def broken() -> LiveView:
        built.append("view")
        raise RuntimeError("endpoint busy")

    # Given --verbose and --quiet  When the view would start  Then none is built
    for mode in (Mode.VERBOSE, Mode.QUIET):
        terminal, _ = _terminal(mode, tmp_path)
        terminal.start_view(broken)
        assert built == []
    # Given the default mode and a view that cannot be built
    terminal, shown = _terminal(Mode.LIVE, tmp_path)
    # When it starts  Then the cloud runs on, and one line says so
    terminal.start_view(broken)
    assert built == ["view"] and terminal.view is None
    assert shown.getvalue().splitlines() == [
        "ftb local: no live view (endpoint busy); function output is logged"
    ]


def test_piped_the_view_is_a_plain_progress_line_at_an_interval() -> None:
    # Given a view whose output is no terminal (a pipe, a log file)
    sfn = _FakeStepFunctions([_execution(1, "RUNNING")])
    console, buffer = _console()
    counters = Counters()
    view = LiveView("Stack", Sources(sfn, _FakeSqs(), ["arn:sm"], [], lambda: 0), counters, console)
    assert view.plain
    view.poll()
    # When it reports at 0 s, 5 s, 11 s (figures changed) and 15 s (unchanged)
    view.progress(now=0.0)
    view.progress(now=5.0)
    counters.api_answered(202)
    sfn.executions[0] = _execution(1, "SUCCEEDED")
    view.poll()
    view.progress(now=11.0)
    view.progress(now=15.0)
    # Then two plain lines, ten seconds apart, with the counts; no escape code at all
    lines = buffer.getvalue().splitlines()
    assert len(lines) == 2, lines
    assert "executions: 1 running, 0 succeeded, 0 failed" in lines[0]
    assert "since start: 1 accepted, 0 4xx, 0 5xx" in lines[1]
    assert "executions: 0 running, 1 succeeded, 0 failed" in lines[1]
    assert "\x1b" not in buffer.getvalue()
    # And an idle minute still gets a line
    view.progress(now=71.0)
    assert len(buffer.getvalue().splitlines()) == 3


def test_after_a_restart_executions_count_the_restored_state_and_the_rest_say_since_start() -> None:
    # Given a cloud that restored 100 executions and has answered nothing yet
    sfn = _FakeStepFunctions(
        [_execution(n, "SUCCEEDED") for n in range(88)]
        + [_execution(n, "FAILED") for n in range(88, 100)]
    )
    console, buffer = _console()
    sources = Sources(sfn, _FakeSqs(), ["arn:sm"], [], lambda: 0, restored_executions=100)
    view = LiveView("Stack", sources, Counters(), console)
    # When the view polls and is drawn
    view.poll()
    console.print(render("Stack", view.snapshot))
    text = buffer.getvalue()
    # Then the executions are the state's, said to be restored, and the API's 0 is "since start"
    assert "0 running · 88 succeeded · 12 failed · 0.0 finished/s · 100 restored" in text
    assert "API since start" in text and "Errors/calls since start" in text
    # And the restored failures are not news: none is listed
    assert sfn.described == []


# The view as `ftb local` builds it (terminal._console() on the real stdout), in a child
# process, fed by fakes, polling fast: run once on a pipe and once on a pseudo-terminal.
_VIEW_SCRIPT = """
import time
from ftb.localcloud import live_view
from ftb.localcloud.live_view import Counters, LiveView, Sources
from ftb.localcloud.terminal import _console

live_view.POLL_SECONDS, live_view.PROGRESS_SECONDS = 0.05, 0.2

class Sfn:
    def get_paginator(self, name):
        class P:
            def paginate(self, **_):
                return [{"executions": [
                    {"executionArn": "a", "name": "t", "status": "SUCCEEDED"}]}]
        return P()

counters = Counters()
view = LiveView("Stack", Sources(Sfn(), None, ["arn:sm"], [], lambda: 0), counters, _console())
view.start()
for _ in range(12):
    counters.api_answered(202)
    time.sleep(0.1)
view.stop()
"""


def _run_view(stdout: int) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("FORCE_COLOR", "NO_COLOR", "COLUMNS", "TERM")
    }
    env.update(TERM="xterm-256color", PYTHONPATH=os.pathsep.join(sys.path))
    subprocess.run(
        [sys.executable, "-c", _VIEW_SCRIPT],
        stdout=stdout,
        stderr=subprocess.DEVNULL,
        env=env,
        check=True,
        timeout=60,
    )


def test_on_a_pipe_progress_lines_and_no_cursor_movement_on_a_terminal_a_redrawn_view(
    tmp_path: Path,
) -> None:
    # Given `ftb local | tee log` (stdout a pipe)
    read, write = os.pipe()
    _run_view(write)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        piped = pipe.read().decode()
    # Then progress lines came while it ran, then the view once; no escape code at all
    progress = [line for line in piped.splitlines() if "executions:" in line]
    assert len(progress) >= 2, piped
    assert "\x1b" not in piped
    assert "API since start" in "\n".join(piped.splitlines()[-5:])  # the final view

    # Given `ftb local` at a terminal (stdout a pseudo-terminal)
    controller, terminal = pty.openpty()
    shown = b""
    try:
        _run_view(terminal)
        os.close(terminal)
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal side is closed: all read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(controller)
    # Then the view redraws in place (cursor up / erase line), with no progress lines
    assert b"\x1b[2K" in shown and b"\x1b[1A" in shown, shown[-300:]
    assert b"executions:" not in shown
