"""Target resolution: a deployed stack from its outputs (moto), or the running local cloud."""

from __future__ import annotations

import argparse
import json
import os
import socket
from pathlib import Path

import pytest

from ftb.ops import target as targets
from ftb.ops.output import CommandError
from tests.support.ops import DeployedStack


def _args(**values: object) -> argparse.Namespace:
    defaults = {"stack": None, "region": None, "profile": None, "state_file": None}
    return argparse.Namespace(**{**defaults, **values})


def test_a_stack_resolves_from_its_outputs_and_resources(deployed_stack: DeployedStack) -> None:
    # Given a deployed stack
    # When it is resolved by name
    target = targets.resolve(_args(stack=deployed_stack.name, region="us-east-1"))
    # Then its endpoints and ARNs come from the outputs...
    assert target.kind == "aws"
    assert target.tasks_endpoint == deployed_stack.outputs["TasksEndpoint"]
    assert target.state_machine_arn == deployed_stack.state_machine_arn
    assert target.table_name == deployed_stack.table_name
    # ...and its log groups from its functions, log groups and the workflow's log group output
    assert target.log_groups == sorted(
        [f"/aws/lambda/{name}" for name in deployed_stack.function_names]
        + [deployed_stack.log_group]
    )


def test_an_unknown_stack_says_how_to_find_or_deploy_it(deployed_stack: DeployedStack) -> None:
    # When a stack that does not exist is asked for
    with pytest.raises(CommandError) as raised:
        targets.resolve(_args(stack="NoSuchStack", region="us-east-1"))
    # Then the error names it and the next step
    assert "NoSuchStack does not exist in us-east-1" in raised.value.message
    assert "make deploy" in raised.value.hint
    assert raised.value.exit_code == 2


def test_region_without_stack_is_a_usage_error(tmp_path: Path) -> None:
    # When --region is given without --stack
    with pytest.raises(CommandError) as raised:
        targets.resolve(_args(region="eu-west-1", state_file=tmp_path / "x.json"))
    # Then the error says to add --stack
    assert "--stack" in raised.value.hint


def test_a_missing_output_says_what_to_do(deployed_stack: DeployedStack) -> None:
    # Given a resolved stack
    target = targets.resolve(_args(stack=deployed_stack.name, region="us-east-1"))
    target.outputs.pop("TasksTableName")
    # When a command needs an output the stack does not have
    with pytest.raises(CommandError) as raised:
        _ = target.table_name
    # Then it is named, with what to do
    assert "has no output TasksTableName" in raised.value.message
    assert "redeploy" in raised.value.hint


def _write_state(path: Path, endpoint: str, pid: int | None = None) -> None:
    path.write_text(
        json.dumps(
            {
                "pid": pid if pid is not None else os.getpid(),
                "endpointUrl": endpoint,
                "region": "us-east-1",
                "stackName": "FaultTolerantBackend",
                "outputs": {"TasksTableName": "t"},
                "logGroups": ["/aws/lambda/FaultTolerantBackend-process-task"],
            }
        ),
        encoding="utf-8",
    )


def test_the_running_local_cloud_is_the_default_target(tmp_path: Path) -> None:
    # Given a state file of a running local cloud (its endpoint port answers)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        endpoint = f"http://127.0.0.1:{listener.getsockname()[1]}"
        state = tmp_path / "local.json"
        _write_state(state, endpoint)
        # When no --stack is given
        target = targets.resolve(_args(state_file=state))
    # Then the local cloud is the target, with its endpoint, outputs and log groups
    assert (target.kind, target.endpoint_url, target.table_name) == ("local", endpoint, "t")
    assert target.log_groups == ["/aws/lambda/FaultTolerantBackend-process-task"]


def test_a_left_over_state_file_is_not_a_running_cloud(tmp_path: Path) -> None:
    # Given a state file whose endpoint no longer answers
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
    state = tmp_path / "local.json"
    _write_state(state, f"http://127.0.0.1:{port}")
    # When it is resolved
    with pytest.raises(CommandError) as raised:
        targets.resolve(_args(state_file=state))
    # Then the error says the cloud is not running and how to start it or use a stack
    assert "not running" in raised.value.message
    assert "make run" in raised.value.hint and "--stack" in raised.value.hint
