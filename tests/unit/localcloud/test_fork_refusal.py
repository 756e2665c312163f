"""When the runtime may fork a worker from its zygote: only when nothing the zygote did before
the fork can differ from a fresh interpreter started for the function."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ftb.localcloud.lambda_runtime.forking import ENVIRON_SPACE, fork_refusal

ZYGOTE_ENV = {"PATH": "/usr/bin", "LANG": "C.UTF-8", "TZ": ":UTC", "AWS_EXECUTION_ENV": "x"}


def ready(**overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "threads": 1,
        "environmentListed": False,
        "environmentReads": {"AWS_EXECUTION_ENV": "x", "POWERTOOLS_DEBUG": None},
        "modules": ["boto3", "botocore", "json", "os"],
    }
    document.update(overrides)
    return document


def function_env(**extra: str) -> dict[str, str]:
    return {**ZYGOTE_ENV, "AWS_LAMBDA_FUNCTION_NAME": "fn", **extra}


def test_a_function_with_the_read_values_and_its_own_modules_is_forked(tmp_path: Path) -> None:
    # Given a code directory of its own modules and an environment that adds variables the
    # preload never read
    (tmp_path / "app.py").write_text("")
    (tmp_path / "lib").mkdir()

    # When the runtime asks / Then nothing refuses the fork
    assert fork_refusal(ready(), ZYGOTE_ENV, function_env(TABLE="t"), tmp_path) is None


def test_a_variable_read_at_preload_with_another_value_refuses(tmp_path: Path) -> None:
    # Given a function that sets a variable the preload read while it was unset
    env = function_env(POWERTOOLS_DEBUG="1")

    # When the runtime asks / Then the fork is refused, naming the variable
    assert "POWERTOOLS_DEBUG" in (fork_refusal(ready(), ZYGOTE_ENV, env, tmp_path) or "")


def test_start_up_variables_must_match(tmp_path: Path) -> None:
    # Given functions that set what the interpreter or the C library read at start-up
    for name, value in (("PYTHONPATH", "/x"), ("LC_ALL", "C"), ("LD_PRELOAD", "/x.so")):
        # When the runtime asks / Then each is refused
        refusal = fork_refusal(ready(), ZYGOTE_ENV, function_env(**{name: value}), tmp_path)
        assert refusal is not None and name in refusal
    # ... as is another TZ than the zygote's
    assert fork_refusal(ready(), ZYGOTE_ENV, function_env(TZ="Europe/Paris"), tmp_path)


def test_a_code_directory_that_shadows_a_preloaded_module_refuses(tmp_path: Path) -> None:
    # Given code directories with their own boto3 package, botocore module or json extension
    for entry in ("boto3/", "botocore.py", "json.cpython-311-x86_64-linux-gnu.so"):
        directory = tmp_path / entry.strip("/").replace(".", "_")
        directory.mkdir()
        if entry.endswith("/"):
            (directory / entry.strip("/")).mkdir()
        else:
            (directory / entry).write_text("")

        # When the runtime asks / Then it refuses: the function's copy must win
        assert fork_refusal(ready(), ZYGOTE_ENV, function_env(), directory) is not None


def test_a_zygote_with_threads_or_a_listed_environment_refuses(tmp_path: Path) -> None:
    # Given zygotes whose preload started a thread, or read the whole environment
    for document in (ready(threads=2), ready(environmentListed=True)):
        # When the runtime asks / Then nothing is forked from them
        assert fork_refusal(document, ZYGOTE_ENV, function_env(), tmp_path) is not None


def test_an_environment_the_zygote_cannot_show_in_proc_refuses(tmp_path: Path) -> None:
    # Given a function whose variables exceed the zygote's environment block, and a system
    # that does not let a process rewrite its own block
    large = function_env(BIG="x" * ENVIRON_SPACE)

    # When the runtime asks / Then both are refused (/proc/PID/environ would be wrong)
    assert fork_refusal(ready(), ZYGOTE_ENV, large, tmp_path) is not None
    assert fork_refusal(ready(environBlock=False), ZYGOTE_ENV, function_env(), tmp_path)
