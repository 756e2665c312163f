"""Hot reload, as a developer meets it: `ftb local` runs a copy of the app, the test edits the
copy's sources while tasks run, and the running cloud picks the change up with no restart and
no task lost. Broken edits (a handler that does not compile, one that does not import, a CDK
app that does not synthesize) are refused with one message, and the last good version serves
on."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.app_copy import copy_app
from tests.support.local_cloud import LocalCloudProcess, wait_for

# A hang guard only: a cold synth of the copy and every wait are bounded inside.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

PROCESS_TASK = Path("handlers") / "process_task.py"
RETURN_LINE = "    return result.model_dump(by_alias=True)\n"
RELOAD_LINE = re.compile(r"^hot reload: \S.*", re.MULTILINE)  # not its "  not applied" lines


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_app(tmp_path_factory.mktemp("hot-reload") / "app")


@pytest.fixture(scope="module")
def cloud(app: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    process = LocalCloudProcess(
        "hot-reload",
        ["--set-env", "process-task:FAILURE_RATE=0"],
        tmp_path_factory.mktemp("hot-reload-cloud"),
        cwd=app,
    )
    process.start()
    try:
        yield process.wait_ready()
    finally:
        process.stop()


def reload_lines(cloud: LocalCloudProcess) -> list[str]:
    return RELOAD_LINE.findall(cloud.log_file.read_text(errors="replace"))


def next_reload_line(cloud: LocalCloudProcess, seen: int, timeout: float = 120.0) -> str:
    lines = wait_for(
        lambda: reload_lines(cloud)[seen:] or None, timeout, "a hot reload line", interval=0.1
    )
    return lines[0]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_a_handler_edit_applies_while_tasks_run_with_no_task_lost(
    app: Path, cloud: LocalCloudProcess
) -> None:
    # Given tasks being submitted and processed by the running cloud
    pid = cloud.pid
    before = [f"before-{n}" for n in "abcdefgh"]  # an id ending in 3 fails permanently
    for task_id in before:
        assert cloud.submit(task_id).status == 202
    seen = len(reload_lines(cloud))

    # When process-task is edited to mark its results, while those tasks run
    edit(
        app / PROCESS_TASK,
        RETURN_LINE,
        '    return {**result.model_dump(by_alias=True), "reloaded": True}\n',
    )
    line = next_reload_line(cloud, seen)

    # Then one line says the code was swapped, without a synth or a restart
    assert "code of" in line and "process-task" in line and "swapped" in line, line
    assert cloud.process is not None and cloud.process.poll() is None and cloud.pid == pid
    # And a task submitted afterwards runs the new code
    after = [f"after-{n}" for n in "abcd"]
    for task_id in after:
        assert cloud.submit(task_id).status == 202
    for task_id in after:
        assert cloud.wait_for_status(task_id, "SUCCEEDED", timeout=120)["result"]["reloaded"]
    # And every task accepted before the swap reached its outcome: none was lost
    for task_id in before:
        assert cloud.wait_for_status(task_id, "SUCCEEDED", timeout=120)["status"] == "SUCCEEDED"


def test_a_handler_that_does_not_compile_is_refused_and_the_last_good_version_serves(
    app: Path, cloud: LocalCloudProcess
) -> None:
    # Given a running cloud
    seen = len(reload_lines(cloud))
    # When process-task is saved half-typed
    path = app / PROCESS_TASK
    good = path.read_text(encoding="utf-8")
    path.write_text(good + "\ndef broken(:\n", encoding="utf-8")
    line = next_reload_line(cloud, seen)
    # Then one message says which file does not compile and that nothing was applied
    assert "NOT applied" in line and "handlers/process_task.py does not compile" in line, line
    # And tasks still run on the last good version
    assert cloud.submit("during-syntax-error").status == 202
    assert cloud.wait_for_status("during-syntax-error", "SUCCEEDED", timeout=120)
    path.write_text(good, encoding="utf-8")
    next_reload_line(cloud, seen + 1)  # the fix is applied again


def test_a_handler_that_does_not_import_is_refused(app: Path, cloud: LocalCloudProcess) -> None:
    # Given a running cloud
    seen = len(reload_lines(cloud))
    # When process-task imports a module that does not exist
    path = app / PROCESS_TASK
    good = path.read_text(encoding="utf-8")
    edit(path, "from typing import Any\n", "from typing import Any\nimport not_a_module\n")
    line = next_reload_line(cloud, seen)
    # Then the reload is refused with Lambda's import error, and the old code serves on
    assert "NOT applied" in line and "Runtime.ImportModuleError" in line, line
    assert "not_a_module" in line
    assert cloud.submit("during-import-error").status == 202
    assert cloud.wait_for_status("during-import-error", "SUCCEEDED", timeout=120)
    path.write_text(good, encoding="utf-8")
    next_reload_line(cloud, seen + 1)


def test_a_cdk_app_that_does_not_synthesize_is_refused(app: Path, cloud: LocalCloudProcess) -> None:
    # Given a running cloud
    seen = len(reload_lines(cloud))
    # When the CDK app raises while it builds the stack
    path = app / "infra" / "stack.py"
    good = path.read_text(encoding="utf-8")
    path.write_text(good + '\nraise RuntimeError("half-written construct")\n', encoding="utf-8")
    started = time.monotonic()
    line = next_reload_line(cloud, seen, timeout=300)
    # Then one message says the app does not synthesize, with its error
    text = cloud.log_file.read_text(errors="replace")
    assert "NOT applied" in line and "does not synthesize" in line, line
    assert "half-written construct" in text[text.index(line) :]
    # And the API still answers on the last good version
    assert cloud.submit("during-synth-error").status == 202
    assert cloud.wait_for_status("during-synth-error", "SUCCEEDED", timeout=120)
    assert time.monotonic() - started < 300
    path.write_text(good, encoding="utf-8")
