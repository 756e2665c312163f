"""`ftb set-env`: change one function's variables, keep the others, locally and on a stack.

Locally it changes monitor-dlq (then puts it back): the session tests rely on process-task's
failure rate until they ship the fix themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.ops import REGION, DeployedStack, Run

PROBE = "OPS_PROBE"


def _variables(lambda_client: Any, function: str) -> dict[str, str]:
    configuration = lambda_client.get_function_configuration(FunctionName=function)
    return dict((configuration.get("Environment") or {}).get("Variables") or {})


def test_set_env_changes_only_the_given_keys_of_the_local_function(
    ftb: Callable[..., Run], on_ops_cloud: Any
) -> None:
    lambda_client = on_ops_cloud.client("lambda")
    function = on_ops_cloud.function_name("monitor-dlq")
    original = _variables(lambda_client, function)
    assert PROBE not in original and original

    # When a variable is set on a function named by its key in the stack
    run = ftb("set-env", "monitor-dlq", f"{PROBE}=1", "--json")

    # Then the function has it, and every other variable is kept (Lambda would replace them)
    assert run.code == 0, run.err
    assert run.json()["function"] == function
    assert run.json()["changes"] == [{"key": PROBE, "before": None, "after": "1"}]
    assert run.json()["driftsFromStack"] is False
    assert _variables(lambda_client, function) == {**original, PROBE: "1"}

    # When the same value is set again / Then nothing is written, and it says so
    again = ftb("set-env", "monitor-dlq", f"{PROBE}=1", "--json")
    assert again.code == 0, again.err
    assert (again.json()["updated"], again.json()["unchanged"]) == (False, [PROBE])

    # When it is changed by the function's physical name / Then the table shows before and after
    table = ftb("set-env", function, f"{PROBE}=2")
    assert table.code == 0, table.err
    assert PROBE in table.out and "Before" in table.out and "After" in table.out
    row = next(line for line in table.out.splitlines() if PROBE in line)
    assert row.index("1") < row.index("2")
    assert "keeps it across restarts" in table.err

    # When it is unset / Then the function's environment is what it was
    unset = ftb("set-env", "monitor-dlq", "--unset", PROBE, "--json")
    assert unset.code == 0, unset.err
    assert unset.json()["changes"] == [{"key": PROBE, "before": "2", "after": None}]
    assert _variables(lambda_client, function) == original


def test_an_unknown_function_says_which_names_work(
    ftb: Callable[..., Run], on_ops_cloud: Any
) -> None:
    # When a function that does not exist is named
    run = ftb("set-env", "no-such-function", "FAILURE_RATE=0")
    # Then a usage error names it and the names that work
    assert run.code == 2
    assert "has no function no-such-function" in run.err
    assert "next:" in run.err and "process-task" in run.err


def test_lambda_refusals_are_usage_errors_with_a_next_step(
    ftb: Callable[..., Run], on_ops_cloud: Any
) -> None:
    # When a reserved variable is set / Then Lambda's refusal is shown, with what to do
    run = ftb("set-env", "monitor-dlq", "AWS_REGION=eu-west-1")
    assert run.code == 2
    assert "reserved keys" in run.err and "next:" in run.err


def test_usage_errors_need_no_target(ftb: Callable[..., Run], tmp_path: Path) -> None:
    # Given no local cloud and no stack: argument errors are found first (exit code 2)
    state_file = str(tmp_path / "none.json")
    nothing = ftb("set-env", "process-task", "--state-file", state_file)
    assert nothing.code == 2 and "nothing to change" in nothing.err
    both = ftb(
        "set-env", "process-task", "FAILURE_RATE=0", "--unset", "FAILURE_RATE",
        "--state-file", state_file,
    )  # fmt: skip
    assert both.code == 2 and "both set and unset" in both.err


def test_on_a_stack_it_updates_the_function_and_says_it_drifts(
    ftb: Callable[..., Run], deployed_stack: DeployedStack
) -> None:
    lambda_client = deployed_stack.client("lambda")
    process_task = f"{deployed_stack.name}-process-task"
    # When FAILURE_RATE is set on the stack's process-task (named by its FunctionName output)
    run = ftb(
        "set-env", "process-task", "FAILURE_RATE=0", "--stack", deployed_stack.name,
        "--region", REGION, "--json",
    )  # fmt: skip
    # Then the deployed function has it, its other variables kept
    assert run.code == 0, run.err
    assert run.json()["function"] == process_task
    assert run.json()["changes"] == [{"key": "FAILURE_RATE", "before": "0.3", "after": "0"}]
    assert _variables(lambda_client, process_task) == {
        "POWERTOOLS_SERVICE_NAME": "process-task",
        "FAILURE_RATE": "0",
    }
    # And it says the change drifts from the stack until the next deploy
    assert run.json()["driftsFromStack"] is True
    assert "drifts from stack" in run.err and "make deploy" in run.err
    assert "ftb redrive --all-failed" in run.err

    # When a function without an output is named (an older stack) / Then the stack's naming
    # convention finds it
    submit = ftb(
        "set-env", "submit-task", "POWERTOOLS_LOG_LEVEL=DEBUG", "--stack", deployed_stack.name,
        "--region", REGION, "--json",
    )  # fmt: skip
    assert submit.code == 0, submit.err
    assert _variables(lambda_client, f"{deployed_stack.name}-submit-task") == {
        "POWERTOOLS_SERVICE_NAME": "submit-task",
        "POWERTOOLS_LOG_LEVEL": "DEBUG",
    }
