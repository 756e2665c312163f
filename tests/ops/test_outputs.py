"""`ftb outputs`: the stack's outputs from CloudFormation DescribeStacks, on either target."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.support.ops import REGION, DeployedStack, FakeApi, Run


def test_outputs_of_a_deployed_stack_come_from_describe_stacks(
    ftb: Callable[..., Run], deployed_stack: DeployedStack
) -> None:
    # Given a deployed stack (moto's CloudFormation)
    # When its outputs are asked for by name
    result = ftb("outputs", "--stack", deployed_stack.name, "--region", REGION)
    # Then they are DescribeStacks' outputs, as a JSON object on stdout
    assert result.code == 0, result.err
    assert json.loads(result.out) == deployed_stack.outputs


def test_an_unknown_stack_is_a_clear_error(
    ftb: Callable[..., Run], deployed_stack: DeployedStack
) -> None:
    # When a stack that does not exist is named
    result = ftb("outputs", "--stack", "NoSuchStack", "--region", REGION)
    # Then the error names it, and nothing lands on stdout
    assert result.code == 2
    assert "NoSuchStack does not exist" in result.err
    assert result.out == ""


def test_no_local_cloud_says_how_to_start_one(ftb: Callable[..., Run], tmp_path: Path) -> None:
    # Given no local cloud (no state file)
    # When the outputs are asked for without --stack
    result = ftb("outputs", "--state-file", str(tmp_path / "none.json"))
    # Then it says the local cloud is not running and how to start it
    assert result.code == 2
    assert "not running" in result.err
    assert "make run" in result.err


def test_a_local_endpoint_without_the_stack_is_an_error_not_stale_outputs(
    ftb: Callable[..., Run], fake_api: FakeApi
) -> None:
    # Given a state file whose "endpoint" answers, but serves no CloudFormation stack
    # When the outputs are asked for
    result = ftb("outputs", "--state-file", str(fake_api.state_file))
    # Then the state file's copy of the outputs is not printed in its place
    assert result.code == 2
    assert result.out == ""
    assert "did not describe stack" in result.err
