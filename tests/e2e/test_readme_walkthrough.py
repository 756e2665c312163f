"""The README, run as written: the "Operate it" walkthrough and the banner's "Try it" lines,
against a local cloud started the way `make run` starts it (its arguments are read from the
Makefile), so the documentation and the system cannot drift apart.

The same cloud then shows what the terminal looks like after a walkthrough: the banner, a
compact live view, one line per failed execution, no traceback.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.accounting import wait_until_quiet
from tests.support.local_cloud import REPO_ROOT, LocalCloudProcess, starts_a_local_cloud, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

README = REPO_ROOT / "README.md"
QUIET_TIMEOUT_SECONDS = 300
# The walkthrough shows a failed task: `ftb status` and `ftb history` of a failed run exit 1
# (README: "1 when a task is unknown or failed"); every other command exits 0.
EXITS_1_FOR_A_FAILED_TASK = ("ftb status",)  # `ftb history` exits 0: it showed the history


def shell_blocks(markdown: str, heading: str) -> list[str]:
    """The ```bash blocks of the section under `## heading` (up to the next `## `)."""
    section = markdown.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)


def commands(block: str) -> list[str]:
    """One command per line, without its comment; comment-only lines dropped."""
    found = []
    for line in block.splitlines():
        command = line.split(" #", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if command:
            found.append(command)
    return found


def make_run_arguments() -> list[str]:
    """What `make run` passes to `ftb local` (make -n prints the command without running it)."""
    printed = subprocess.run(
        ["make", "-n", "run"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout
    [line] = [line for line in printed.splitlines() if "ftb local" in line]
    return shlex.split(line.split("ftb local", 1)[1])


def setup_is_only_the_venv(walkthrough: list[str]) -> bool:
    return [c for c in walkthrough if not c.startswith("ftb ")] == ["source .venv/bin/activate"]


@dataclass
class Ran:
    command: str
    code: int
    out: str
    err: str


def run_in_a_fresh_shell(script: str, env: dict[str, str], command: str = "") -> Ran:
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return Ran(command or script, done.returncode, done.stdout, done.stderr)


def fresh_shell_environment(**extra: str) -> dict[str, str]:
    """A shell as a new user opens it: a PATH without the venv, no AWS configuration."""
    venv_bin = str(Path(sys.executable).parent)
    path = ":".join(p for p in os.environ.get("PATH", "").split(":") if p and p != venv_bin)
    env = {"PATH": path, "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"}
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return {**env, **extra}


@pytest.fixture(scope="module")
@starts_a_local_cloud
def make_run_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    cloud = LocalCloudProcess(
        "make-run", make_run_arguments(), tmp_path_factory.mktemp("make-run-cloud")
    )
    cloud.start()
    try:
        yield cloud.wait_ready()
    finally:
        cloud.stop()


def test_the_walkthrough_runs_as_written(make_run_cloud: LocalCloudProcess) -> None:
    # Given the README's "Operate it" walkthrough, and the cloud `make run` starts
    [block] = shell_blocks(README.read_text(encoding="utf-8"), "Operate it")
    walkthrough = commands(block)
    assert walkthrough[0] == "source .venv/bin/activate" and len(walkthrough) >= 10
    assert setup_is_only_the_venv(walkthrough)
    env = fresh_shell_environment(FTB_STATE_FILE=str(make_run_cloud.state_file))
    env |= {"COLUMNS": "250", "NO_COLOR": "1"}
    ran = []
    setup: list[str] = []  # `source .venv/bin/activate`: the shell every later command runs in
    # When each command runs in turn (the walk waits for the tasks after submitting)
    for command in walkthrough:
        if not command.startswith("ftb "):
            setup.append(command)
            continue
        ran.append(run_in_a_fresh_shell(" && ".join([*setup, command]), env, command))
        if command.startswith("ftb submit"):
            wait_until_quiet(make_run_cloud, timeout=QUIET_TIMEOUT_SECONDS)
    # Then each did what the README says: a failed task's status exits 1, the rest 0
    for result in ran:
        expected = 1 if result.command.startswith(EXITS_1_FOR_A_FAILED_TASK) else 0
        assert result.code == expected and "Traceback" not in result.err, result
    by_command = {result.command: result for result in ran}
    failed_list = next(r for r in ran if r.command.startswith("ftb tasks --status FAILED"))
    example = re.search(r"ftb status (\S+)", block)
    assert example is not None
    task_id = example.group(1)
    # And the task the README follows is among the failed, then redriven to SUCCEEDED
    assert task_id in failed_list.out
    redrive = next(r for r in ran if r.command.startswith(f"ftb redrive {task_id} --wait"))
    assert "SUCCEEDED" in redrive.out and f"{task_id}-r1" in redrive.out
    first_run = next(r for r in ran if r.command.startswith(f"ftb history {task_id} --run 1"))
    assert "FAILED" in first_run.out
    # And the last redrive leaves the permanent failures alone, and says so
    last = by_command[walkthrough[-1]]
    assert walkthrough[-1].startswith("ftb redrive --all-failed")
    assert "left alone" in last.err and "PermanentTaskError" in last.err


def test_the_banners_try_it_lines_work_pasted_into_a_fresh_shell(
    make_run_cloud: LocalCloudProcess,
) -> None:
    # Given the banner's "Try it" lines
    banner = make_run_cloud.log_file.read_text(encoding="utf-8")
    section = banner.split("Try it:\n", 1)[1].split("\n\n", 1)[0]
    lines = [line.strip() for line in section.splitlines()]
    assert [line.split()[0] for line in lines][:2] == ["curl", "curl"]
    assert "aws" in lines[2] and "--region" in lines[2]
    # When each is pasted into a shell with no AWS configuration and no venv on the PATH
    results = [run_in_a_fresh_shell(line, fresh_shell_environment()) for line in lines[:2]]
    # (as a user reads the answers before pasting the next line: the execution starts within
    # the queue's batching window)
    arn = make_run_cloud.execution_arn("demo-1")
    sfn = make_run_cloud.client("stepfunctions")
    wait_for(lambda: _exists(sfn, arn), 60, "demo-1's execution to start")
    results += [run_in_a_fresh_shell(line, fresh_shell_environment()) for line in lines[2:]]
    # Then the task is accepted, read back, and its execution history printed
    assert all(result.code == 0 for result in results), results
    assert "demo-1" in results[0].out and "QUEUED" in results[0].out
    assert "demo-1" in results[1].out
    assert '"events"' in results[2].out and "ExecutionStarted" in results[2].out


def test_the_terminal_shows_a_compact_view_and_one_line_per_failure(
    make_run_cloud: LocalCloudProcess,
) -> None:
    # Given the walkthrough has run (its 100 tasks, the redrives) on the `make run` cloud
    wait_until_quiet(make_run_cloud, timeout=QUIET_TIMEOUT_SECONDS)
    # When it stops
    make_run_cloud.stop()
    text = make_run_cloud.log_file.read_text(encoding="utf-8")
    after_banner = text.split("Ctrl-C stops everything.\n", 1)[1].splitlines()
    # Then the terminal (a pipe here) holds one line per failed execution, a plain progress
    # line now and then, the view once at the end, and no traceback or escape code
    assert "Traceback" not in text and "\x1b" not in text
    failures = [line for line in after_banner if line.startswith("FAILED ")]
    assert any("PermanentTaskError" in line for line in failures), after_banner
    progress = [line for line in after_banner if " · executions: " in line]
    assert progress, after_banner
    assert len(after_banner) - len(progress) < 40, after_banner
    assert any(line.startswith("Executions") for line in after_banner), after_banner
    # And the functions' output went to the log file beside the state file
    log = make_run_cloud.state_file.with_name(
        f"{make_run_cloud.state_file.stem}.functions.log"
    ).read_text(encoding="utf-8")
    assert "Traceback (most recent call last):" in log and "process-task |" in log


def _exists(sfn: Any, arn: str) -> bool:
    try:
        sfn.describe_execution(executionArn=arn)
    except sfn.exceptions.ExecutionDoesNotExist:
        return False
    return True
