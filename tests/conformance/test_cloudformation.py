"""The provisioned template as a CloudFormation stack, as botocore and the AWS CLI read it.

Shapes: the CloudFormation API reference (DescribeStacks, ListStacks, ListStackResources,
DescribeStackResource(s), GetTemplate) and botocore's service model.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.aws_cli import CliResult
from tests.support.local_cloud import REPO_ROOT, LocalCloudProcess

STACK_ID = re.compile(
    r"^arn:aws:cloudformation:us-east-1:123456789012:stack/(?P<name>[^/]+)/[0-9a-f-]{36}$"
)


def _template(cloud: LocalCloudProcess) -> dict[str, Any]:
    return json.loads(Path(cloud.state["template"]).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _stack(cloud: LocalCloudProcess) -> str:
    return str(cloud.state["stackName"])


def test_describe_stacks_shows_the_stack_created(conformance_cloud: LocalCloudProcess) -> None:
    # Given the running local cloud
    # When its stack is described by name
    stacks = conformance_cloud.client("cloudformation").describe_stacks(
        StackName=_stack(conformance_cloud)
    )["Stacks"]
    # Then it is one stack, CREATE_COMPLETE, with a stack id ARN and a creation time
    assert len(stacks) == 1
    stack = stacks[0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert STACK_ID.match(stack["StackId"])["name"] == _stack(conformance_cloud)  # type: ignore[index]
    assert stack["CreationTime"].tzinfo is not None
    # And its outputs are the local values the state file published
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs == conformance_cloud.outputs
    assert outputs["TaskQueueUrl"].startswith(conformance_cloud.endpoint_url)
    # And its parameters are the template's
    template = _template(conformance_cloud)
    assert {p["ParameterKey"] for p in stack["Parameters"]} == set(template.get("Parameters", {}))
    assert stack["Description"] == template["Description"]


def test_describe_stacks_by_stack_id_and_without_a_name(
    conformance_cloud: LocalCloudProcess,
) -> None:
    # Given the stack's id
    client = conformance_cloud.client("cloudformation")
    stack_id = client.describe_stacks(StackName=_stack(conformance_cloud))["Stacks"][0]["StackId"]
    # When it is described by id, and all stacks are described
    by_id = client.describe_stacks(StackName=stack_id)["Stacks"]
    every = client.describe_stacks()["Stacks"]
    # Then both name the same stack
    assert [s["StackId"] for s in by_id] == [stack_id]
    assert [s["StackId"] for s in every] == [stack_id]


def test_an_unknown_stack_is_awss_validation_error(
    conformance_cloud: LocalCloudProcess, aws: Callable[..., CliResult]
) -> None:
    # When a stack that does not exist is described (botocore and the CLI)
    with pytest.raises(ClientError) as raised:
        conformance_cloud.client("cloudformation").describe_stacks(StackName="NoSuchStack")
    cli = aws("cloudformation", "describe-stacks", "--stack-name", "NoSuchStack")
    # Then both get CloudFormation's ValidationError with its message
    error = raised.value.response["Error"]
    assert error["Code"] == "ValidationError"
    assert error["Message"] == "Stack with id NoSuchStack does not exist"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert cli.returncode != 0
    assert (
        "ValidationError" in cli.stderr and "Stack with id NoSuchStack does not exist" in cli.stderr
    )


def test_cli_describe_stacks_outputs_equal_ftb_outputs(
    conformance_cloud: LocalCloudProcess, aws: Callable[..., CliResult]
) -> None:
    # Given the stack described by the AWS CLI
    result = aws("cloudformation", "describe-stacks", "--stack-name", _stack(conformance_cloud))
    assert result.returncode == 0, result.stderr
    described = {o["OutputKey"]: o["OutputValue"] for o in result.json()["Stacks"][0]["Outputs"]}
    # When `ftb outputs` runs against the same local cloud
    printed = subprocess.run(
        [
            sys.executable,
            "-m",
            "ftb.cli",
            "outputs",
            "--state-file",
            str(conformance_cloud.state_file),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # Then it prints exactly the stack's outputs, plus the local task console's URL (served
    # beside the cloud, not a resource of the stack: DescribeStacks does not hold it)
    assert printed.returncode == 0, printed.stderr
    printed_outputs = json.loads(printed.stdout)
    assert printed_outputs.pop("ConsoleUrl").startswith("http://127.0.0.1:")
    assert printed_outputs == described


def test_list_stacks_and_its_status_filter(aws: Callable[..., CliResult]) -> None:
    # When the stacks are listed, all and only the deleted ones
    listed = aws("cloudformation", "list-stacks")
    complete = aws("cloudformation", "list-stacks", "--stack-status-filter", "CREATE_COMPLETE")
    deleted = aws("cloudformation", "list-stacks", "--stack-status-filter", "DELETE_COMPLETE")
    # Then the one stack is CREATE_COMPLETE, and no stack was deleted
    assert listed.returncode == 0, listed.stderr
    summaries = listed.json()["StackSummaries"]
    assert [s["StackStatus"] for s in summaries] == ["CREATE_COMPLETE"]
    assert complete.json()["StackSummaries"] == summaries
    assert deleted.json()["StackSummaries"] == []


def test_list_stack_resources_lists_every_resource_with_its_physical_id(
    conformance_cloud: LocalCloudProcess,
) -> None:
    # Given the template's resources
    template = _template(conformance_cloud)["Resources"]
    # When the stack's resources are listed (all pages)
    pages = conformance_cloud.client("cloudformation").get_paginator("list_stack_resources")
    summaries = [
        s
        for page in pages.paginate(StackName=_stack(conformance_cloud))
        for s in page["StackResourceSummaries"]
    ]
    by_id = {s["LogicalResourceId"]: s for s in summaries}
    # Then every resource is there once, CREATE_COMPLETE, with its type
    active = {lid for lid, r in template.items() if "Condition" not in r}
    assert active <= set(by_id) <= set(template)
    assert len(by_id) == len(summaries)
    for logical_id, summary in by_id.items():
        assert summary["ResourceType"] == template[logical_id]["Type"]
        assert summary["ResourceStatus"] == "CREATE_COMPLETE"
        assert summary["PhysicalResourceId"]
    # And the physical ids are the local resources' (queue URL, function name, ...)
    state = conformance_cloud.state
    for logical_id, name in state["functions"].items():
        assert by_id[logical_id]["PhysicalResourceId"] == name
    for logical_id, url in state["queues"].items():
        assert by_id[logical_id]["PhysicalResourceId"] == url
    # And a resource the local cloud does not emulate is listed with its placeholder, and says so
    roles = [s for s in summaries if s["ResourceType"] == "AWS::IAM::Role"]
    assert roles
    assert all("Not emulated" in s["ResourceStatusReason"] for s in roles)


def test_describe_stack_resource_and_resources(
    conformance_cloud: LocalCloudProcess, aws: Callable[..., CliResult]
) -> None:
    # Given the process-task function's logical id
    stack = _stack(conformance_cloud)
    logical_id, name = next(
        (lid, n)
        for lid, n in conformance_cloud.state["functions"].items()
        if n.endswith("process-task")
    )
    client = conformance_cloud.client("cloudformation")
    # When it is described alone (CLI), in the list of all, and by its physical id
    one = aws(
        "cloudformation",
        "describe-stack-resource",
        "--stack-name",
        stack,
        "--logical-resource-id",
        logical_id,
    )
    every = client.describe_stack_resources(StackName=stack)["StackResources"]
    by_physical = client.describe_stack_resources(PhysicalResourceId=name)["StackResources"]
    # Then each names the resource, its stack, type and status
    assert one.returncode == 0, one.stderr
    detail = one.json()["StackResourceDetail"]
    assert detail["PhysicalResourceId"] == name
    assert detail["ResourceType"] == "AWS::Lambda::Function"
    assert detail["ResourceStatus"] == "CREATE_COMPLETE"
    assert detail["StackName"] == stack
    assert any(r["LogicalResourceId"] == logical_id for r in every)
    assert [r["LogicalResourceId"] for r in by_physical] == [logical_id]
    # And an unknown logical id is CloudFormation's ValidationError
    with pytest.raises(ClientError) as raised:
        client.describe_stack_resource(StackName=stack, LogicalResourceId="Nope")
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert (
        raised.value.response["Error"]["Message"]
        == f"Resource Nope does not exist for stack {stack}"
    )


def test_get_template_returns_the_provisioned_template(
    conformance_cloud: LocalCloudProcess,
) -> None:
    # When the stack's template is read
    answer = conformance_cloud.client("cloudformation").get_template(
        StackName=_stack(conformance_cloud)
    )
    # Then it is the template that was provisioned (botocore decodes the JSON body)
    assert answer["TemplateBody"] == _template(conformance_cloud)
    assert answer["StagesAvailable"] == ["Original", "Processed"]


def test_an_operation_the_stack_does_not_serve_is_refused(
    conformance_cloud: LocalCloudProcess, aws: Callable[..., CliResult]
) -> None:
    # When the CLI asks for something the local stack does not emulate (its events)
    result = aws(
        "cloudformation", "describe-stack-events", "--stack-name", _stack(conformance_cloud)
    )
    # Then it is refused in AWS's error shape, not answered by moto's unrelated backend
    assert result.returncode != 0
    assert "InvalidAction" in result.stderr
    assert "DescribeStackEvents" in result.stderr
