"""The `target:` line and a piped table: real file descriptors (a pipe, a pseudo-terminal, a
file), in a child process, as a shell sets them up for `ftb tasks | cat`, `ftb tasks 2>&1 |
cat` and `ftb tasks 2>err.log`."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

# A command's shape: the target line, then a table of 300 rows (bigger than a pipe's buffer
# chunk), then a closing note; exactly what resolve_target and Output.table do.
SCRIPT = """
from ftb.ops.output import Output
output = Output()
output.context("target: local cloud (http://127.0.0.1:1)")
output.table(["Task", "Status"], [[f"task-{n:04d}", "SUCCEEDED"] for n in range(300)])
output.note("showing the first 300: raise --limit to see more")
"""


def _env() -> dict[str, str]:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    env.pop("COLUMNS", None)
    return env


def test_merged_into_the_pipe_the_table_comes_alone() -> None:
    # Given `ftb tasks 2>&1 | cat`: stderr is the same pipe as stdout
    # When the command runs
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=_env(),
        check=True,
    )
    lines = done.stdout.decode().splitlines()
    # Then no target line lands in the data: the table is whole, row after row
    assert not any(line.startswith("target:") for line in lines), lines[:3]
    rows = [line for line in lines if "task-" in line]
    assert [row.split()[1] for row in rows] == [f"task-{n:04d}" for n in range(300)]


def test_at_a_terminal_the_target_line_comes_first_and_the_pipe_carries_only_the_table() -> None:
    # Given `ftb tasks | cat` typed at a terminal: stdout a pipe, stderr a pseudo-terminal
    controller, terminal = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT],
            stdout=subprocess.PIPE,
            stderr=terminal,
            env=_env(),
            check=True,
        )
        os.close(terminal)
        shown = b""
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
    # Then the person sees the target line first, and the pipe carries only the table
    text = re.sub(r"\x1b\[[0-9;]*m", "", shown.decode())  # the dim style of a side note
    assert text.splitlines()[0] == "target: local cloud (http://127.0.0.1:1)"
    assert b"target:" not in done.stdout
    assert done.stdout.decode().count("task-") == 300


def test_stderr_to_its_own_file_keeps_the_target_line(tmp_path: Path) -> None:
    # Given `ftb tasks 2>err.log | cat`
    log = tmp_path / "err.log"
    with log.open("wb") as err:
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE, stderr=err, env=_env()
        )
    # Then the log says where the command ran, and the table stays clean
    assert log.read_text().splitlines()[0] == "target: local cloud (http://127.0.0.1:1)"
    assert b"target:" not in done.stdout and done.returncode == 0
