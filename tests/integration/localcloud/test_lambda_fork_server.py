"""Workers forked from the runtime's zygote (fork server): each must be what a fresh
interpreter started for its function would be (its environment only, its own module state,
its own code), and the runtime starts a fresh interpreter wherever a fork could differ."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ftb.localcloud.lambda_runtime import FunctionSpec, LambdaRuntime
from tests.support.local_endpoint import function_arn

FUNCTIONS = textwrap.dedent(
    """
    import os, sys
    import boto3

    def report(event, context):
        mark = event.get("mark")
        if mark:
            boto3.ftb_test_mark = mark  # module state of a library the zygote imported
        return {
            "pid": os.getpid(),
            "ppid": os.getppid(),
            "environ": dict(os.environ),
            "mark": getattr(boto3, "ftb_test_mark", None),
            "boto3": boto3.__file__,
            "path0": sys.path[0],
            "cwd": os.getcwd(),
        }

    def leave(event, context):
        sys.exit(event["code"])
    """
)


def quiet(function_name: str, line: str) -> None:
    """An echo that prints nothing."""


@pytest.fixture(scope="module")
def code_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("fork-code")
    (directory / "functions.py").write_text(FUNCTIONS, encoding="utf-8")
    return directory


@pytest.fixture
def runtime() -> Iterator[LambdaRuntime]:
    runtime = LambdaRuntime("http://127.0.0.1:9", ship_logs=False, echo=quiet)
    yield runtime
    runtime.shutdown()


def register(
    runtime: LambdaRuntime,
    name: str,
    code_dir: Path,
    environment: dict[str, str] | None = None,
    handler: str = "functions.report",
) -> FunctionSpec:
    spec = FunctionSpec(
        name, function_arn(name), code_dir, handler, environment or {}, timeout_seconds=30
    )
    runtime.register(spec)
    return spec


def invoke(runtime: LambdaRuntime, name: str, event: dict[str, Any] | None = None) -> Any:
    result = runtime.invoke(name, json.dumps(event or {}).encode())
    return json.loads(result.payload)


def forked(seen: dict[str, Any]) -> bool:
    """A forked worker's parent is the zygote; a fresh interpreter's is this process."""
    return bool(seen["ppid"] != os.getpid())


def test_a_forked_worker_sees_only_its_functions_environment(
    runtime: LambdaRuntime, code_dir: Path
) -> None:
    # Given two functions with different template variables, and a variable of this process
    os.environ["FTB_FORK_TEST_PARENT"] = "must not leak"
    try:
        register(runtime, "alpha", code_dir, {"COLOUR": "red", "ONLY_ALPHA": "1"})
        register(runtime, "beta", code_dir, {"COLOUR": "blue"})

        # When each reports what it sees
        alpha, beta = invoke(runtime, "alpha"), invoke(runtime, "beta")
    finally:
        os.environ.pop("FTB_FORK_TEST_PARENT")

    # Then both were forked from the zygote, not started afresh
    assert forked(alpha) and forked(beta)
    assert alpha["ppid"] == beta["ppid"]
    # ... and each sees its own variables and the runtime's, nothing of the other's, the
    # zygote's or this process's
    assert alpha["environ"]["COLOUR"] == "red" and alpha["environ"]["ONLY_ALPHA"] == "1"
    assert beta["environ"]["COLOUR"] == "blue" and "ONLY_ALPHA" not in beta["environ"]
    for seen, name in ((alpha, "alpha"), (beta, "beta")):
        assert "FTB_FORK_TEST_PARENT" not in seen["environ"]
        assert seen["environ"]["AWS_LAMBDA_FUNCTION_NAME"] == name
        assert set(seen["environ"]) == set(alpha["environ"]) - {"ONLY_ALPHA"} | (
            {"ONLY_ALPHA"} if name == "alpha" else set()
        )
        # ... with its code directory first on sys.path and as working directory
        assert seen["path0"] == str(code_dir.resolve())
        assert seen["cwd"] == str(code_dir.resolve())
        # ... and tools that read /proc/PID/environ (ps e, psutil) see that environment too
        block = Path(f"/proc/{seen['pid']}/environ").read_bytes().split(b"\0")
        shown = dict(item.decode().split("=", 1) for item in block if item)
        assert shown == seen["environ"]


def test_workers_do_not_share_module_state(runtime: LambdaRuntime, code_dir: Path) -> None:
    # Given a worker of one function that changed a module the zygote had imported
    register(runtime, "alpha", code_dir)
    register(runtime, "beta", code_dir)
    marked = invoke(runtime, "alpha", {"mark": "alpha was here"})
    assert forked(marked) and marked["mark"] == "alpha was here"

    # When another function's worker looks at the same module
    other = invoke(runtime, "beta")

    # Then it sees the module as imported, not the other worker's change
    assert forked(other) and other["pid"] != marked["pid"]
    assert other["mark"] is None
    # ... and the change stays in the worker that made it (warm: the same process)
    again = invoke(runtime, "alpha")
    assert again["pid"] == marked["pid"] and again["mark"] == "alpha was here"


def test_new_code_runs_in_workers_forked_after_a_swap(
    runtime: LambdaRuntime, tmp_path: Path
) -> None:
    # Given version 1 of a function, served by a forked worker
    directory = tmp_path / "code"
    directory.mkdir()
    (directory / "app.py").write_text(
        "import os\ndef handler(e, c):\n    return {'version': 1, 'ppid': os.getppid()}\n"
    )
    spec = register(runtime, "fn", directory, handler="app.handler")
    first = invoke(runtime, "fn")
    assert first["version"] == 1 and forked(first)

    # When the same module is rewritten in place and the function swapped (hot reload)
    (directory / "app.py").write_text(
        "import os\ndef handler(e, c):\n    return {'version': 2, 'ppid': os.getppid()}\n"
    )
    pool, error = runtime.prepare(dataclasses.replace(spec))
    assert error is None
    runtime.commit(pool)

    # Then the next invocation runs the new code, in a worker forked from the same zygote
    second = invoke(runtime, "fn")
    assert second["version"] == 2 and second["ppid"] == first["ppid"]


def test_a_variable_the_preload_read_gets_a_fresh_interpreter(
    runtime: LambdaRuntime, code_dir: Path
) -> None:
    # Given a function that sets a variable Powertools reads when it is imported, and one
    # that sets a variable the interpreter reads at start-up
    register(runtime, "debug", code_dir, {"POWERTOOLS_DEBUG": "1"})
    register(runtime, "hashseed", code_dir, {"PYTHONHASHSEED": "7"})

    # When they run
    debug, hashseed = invoke(runtime, "debug"), invoke(runtime, "hashseed")

    # Then neither was forked: each is a fresh interpreter that read its own variables
    assert not forked(debug) and debug["environ"]["POWERTOOLS_DEBUG"] == "1"
    assert not forked(hashseed) and hashseed["environ"]["PYTHONHASHSEED"] == "7"


def test_a_code_directory_with_its_own_copy_of_a_preloaded_library_is_not_forked(
    runtime: LambdaRuntime, tmp_path: Path
) -> None:
    # Given a function that bundles its own boto3 (first on sys.path, as /var/task on Lambda)
    directory = tmp_path / "bundled"
    (directory / "boto3").mkdir(parents=True)
    (directory / "boto3" / "__init__.py").write_text("BUNDLED = True\n")
    (directory / "functions.py").write_text(FUNCTIONS, encoding="utf-8")
    register(runtime, "bundled", directory)

    # When it runs
    seen = invoke(runtime, "bundled")

    # Then it imported its own copy, in a fresh interpreter
    assert not forked(seen)
    assert seen["boto3"] == str((directory / "boto3" / "__init__.py").resolve())


def test_a_forked_workers_exit_status_is_reported(runtime: LambdaRuntime, code_dir: Path) -> None:
    # Given a function that leaves with sys.exit(4)
    register(runtime, "leaver", code_dir, handler="functions.leave")

    # When it is invoked
    result = runtime.invoke("leaver", json.dumps({"code": 4}).encode())

    # Then Lambda's Runtime.ExitError names the exit status
    error = json.loads(result.payload)
    assert error["errorType"] == "Runtime.ExitError"
    assert "exit status 4" in error["errorMessage"]


def test_workers_are_started_afresh_when_the_zygote_is_gone(
    runtime: LambdaRuntime, code_dir: Path
) -> None:
    # Given a warm worker forked from the zygote
    register(runtime, "alpha", code_dir)
    before = invoke(runtime, "alpha")
    assert forked(before)

    # When the zygote is killed
    os.kill(before["ppid"], signal.SIGKILL)

    # Then its worker ends with it, and the function is served by fresh interpreters
    deadline = time.monotonic() + 30  # bounds the wait only
    while runtime.worker_pids("alpha") == [before["pid"]] and time.monotonic() < deadline:
        try:
            os.kill(before["pid"], 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    after = invoke(runtime, "alpha")
    if after["pid"] == before["pid"]:  # answered before its end was seen: ask again
        after = invoke(runtime, "alpha")
    assert after["pid"] != before["pid"] and not forked(after)


def test_shutdown_stops_the_zygote(code_dir: Path) -> None:
    # Given a runtime whose zygote forked a worker
    runtime = LambdaRuntime("http://127.0.0.1:9", ship_logs=False, echo=quiet)
    register(runtime, "alpha", code_dir)
    seen = invoke(runtime, "alpha")
    assert forked(seen)

    # When the runtime shuts down
    runtime.shutdown()

    # Then neither the worker nor the zygote is left running
    for pid in (seen["pid"], seen["ppid"]):
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_the_zygote_of_replaced_code_is_stopped_once_its_workers_are_gone(
    tmp_path: Path,
) -> None:
    # Given a runtime that reclaims idle workers quickly, and a function served from v1
    runtime = LambdaRuntime(
        "http://127.0.0.1:9", ship_logs=False, echo=quiet, idle_timeout_seconds=0.2
    )
    try:
        directories = []
        for version in (1, 2):
            directory = tmp_path / f"v{version}"
            directory.mkdir()
            (directory / "app.py").write_text(
                "import os\ndef handler(e, c):\n"
                f"    return {{'v': {version}, 'ppid': os.getppid()}}\n"
            )
            directories.append(directory)
        spec = register(runtime, "fn", directories[0], handler="app.handler")
        old = invoke(runtime, "fn")
        assert old["v"] == 1 and forked(old)

        # When the function is swapped to v2 (another code directory) and runs there
        pool, error = runtime.prepare(dataclasses.replace(spec, code_dir=directories[1]))
        assert error is None
        runtime.commit(pool)
        new = invoke(runtime, "fn")

        # Then v2 runs in a worker of another zygote, and v1's zygote ends once its worker is
        # reclaimed
        assert new["v"] == 2 and forked(new) and new["ppid"] != old["ppid"]
        deadline = time.monotonic() + 60  # bounds the wait only: the reaper polls every 0.05 s
        while time.monotonic() < deadline:
            try:
                os.kill(old["ppid"], 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        with pytest.raises(ProcessLookupError):
            os.kill(old["ppid"], 0)
    finally:
        runtime.shutdown()
