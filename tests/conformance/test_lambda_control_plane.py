"""Lambda's control plane for the stack's functions, as botocore and the AWS CLI read it.

Shapes: the Lambda API reference (FunctionConfiguration, GetFunction, GetPolicy,
EventSourceMappingConfiguration, UpdateEventSourceMapping) and botocore's service model.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.aws_cli import CliResult
from tests.support.local_cloud import LocalCloudProcess, wait_for

LAST_MODIFIED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
FUNCTION_KEYS = ["submit-task", "get-task", "start-execution", "process-task", "monitor-dlq"]


def _template(cloud: LocalCloudProcess) -> dict[str, Any]:
    return json.loads(Path(cloud.state["template"]).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _function_resource(cloud: LocalCloudProcess, name: str) -> tuple[str, dict[str, Any]]:
    logical_ids = {physical: logical for logical, physical in cloud.state["functions"].items()}
    logical_id = logical_ids[name]
    return logical_id, _template(cloud)["Resources"][logical_id]


def _error_code(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return str(raised.value.response["Error"]["Code"])


# -- GetFunction / GetFunctionConfiguration ----------------------------------------------------


@pytest.mark.parametrize("key", FUNCTION_KEYS)
def test_get_function_reports_the_package_it_serves(
    conformance_cloud: LocalCloudProcess, key: str
) -> None:
    # Given a function of the stack
    name = conformance_cloud.function_name(key)
    # When GetFunction is called and its Code.Location downloaded
    function = conformance_cloud.client("lambda").get_function(FunctionName=name)
    configuration, code = function["Configuration"], function["Code"]
    with urllib.request.urlopen(code["Location"], timeout=30) as response:
        package = response.read()
    # Then the location is on the endpoint and serves a zip...
    assert code["Location"].startswith(conformance_cloud.endpoint_url)
    assert code["RepositoryType"] == "S3"
    assert package[:2] == b"PK"
    # ...whose size and base64 SHA-256 are the configuration's CodeSize and CodeSha256
    assert configuration["CodeSize"] == len(package)
    assert (
        configuration["CodeSha256"] == base64.b64encode(hashlib.sha256(package).digest()).decode()
    )
    # And the configuration carries what a console shows
    assert LAST_MODIFIED.match(configuration["LastModified"]), configuration["LastModified"]
    assert configuration["Version"] == "$LATEST"
    assert configuration["State"] == "Active"
    assert configuration["LastUpdateStatus"] == "Successful"


def test_get_function_configuration_matches_get_function(
    conformance_cloud: LocalCloudProcess, aws: Callable[..., CliResult]
) -> None:
    # Given the process-task function
    name = conformance_cloud.function_name("process-task")
    # When its configuration is read with GetFunctionConfiguration (CLI) and GetFunction
    cli = aws("lambda", "get-function-configuration", "--function-name", name)
    function = conformance_cloud.client("lambda").get_function(FunctionName=name)
    # Then both tell the same configuration, package hash included
    assert cli.returncode == 0, cli.stderr
    configuration = cli.json()
    assert configuration["CodeSha256"] == function["Configuration"]["CodeSha256"]
    assert configuration["LastModified"] == function["Configuration"]["LastModified"]
    assert configuration["FunctionArn"] == function["Configuration"]["FunctionArn"]


def test_the_package_is_the_same_on_every_download(conformance_cloud: LocalCloudProcess) -> None:
    # Given the location of a function's package
    name = conformance_cloud.function_name("get-task")
    location = conformance_cloud.client("lambda").get_function(FunctionName=name)["Code"][
        "Location"
    ]
    # When it is downloaded twice
    downloads = []
    for _ in range(2):
        with urllib.request.urlopen(location, timeout=30) as response:
            downloads.append(response.read())
    # Then the bytes are identical (a deterministic zip, as an uploaded package is)
    assert downloads[0] == downloads[1]


# -- versions, aliases, tags, policy, concurrency ------------------------------------------------


def test_versions_aliases_and_provisioned_concurrency(
    conformance_cloud: LocalCloudProcess, aws: Callable[..., CliResult]
) -> None:
    # Given a function that was never published
    name = conformance_cloud.function_name("start-execution")
    # When its versions, aliases and provisioned concurrency are listed
    versions = aws("lambda", "list-versions-by-function", "--function-name", name)
    aliases = aws("lambda", "list-aliases", "--function-name", name)
    client = conformance_cloud.client("lambda")
    provisioned = client.list_provisioned_concurrency_configs(FunctionName=name)
    # Then there is $LATEST only, no alias and no provisioned concurrency
    assert versions.returncode == 0, versions.stderr
    assert [v["Version"] for v in versions.json()["Versions"]] == ["$LATEST"]
    assert versions.json()["Versions"][0]["FunctionName"] == name
    assert aliases.returncode == 0 and aliases.json()["Aliases"] == []
    assert provisioned["ProvisionedConcurrencyConfigs"] == []


@pytest.mark.parametrize("key", FUNCTION_KEYS)
def test_list_tags_gives_the_template_tags_and_cloudformations(
    conformance_cloud: LocalCloudProcess, key: str
) -> None:
    # Given a function and its template resource
    name = conformance_cloud.function_name(key)
    logical_id, resource = _function_resource(conformance_cloud, name)
    arn = conformance_cloud.client("lambda").get_function(FunctionName=name)["Configuration"][
        "FunctionArn"
    ]
    # When its tags are listed
    tags = conformance_cloud.client("lambda").list_tags(Resource=arn)["Tags"]
    # Then they are the template's tags plus the ones CloudFormation adds
    for tag in resource["Properties"].get("Tags", []):
        assert tags[tag["Key"]] == tag["Value"]
    assert tags["aws:cloudformation:logical-id"] == logical_id
    assert tags["aws:cloudformation:stack-name"] == conformance_cloud.state["stackName"]
    assert tags["aws:cloudformation:stack-id"].startswith("arn:aws:cloudformation:")
    # And GetFunction shows the same tags
    assert conformance_cloud.client("lambda").get_function(FunctionName=name)["Tags"] == tags


def test_the_execution_role_is_the_stacks_role_resource(
    conformance_cloud: LocalCloudProcess,
) -> None:
    # Given process-task, whose template Role is a GetAtt of an IAM role of the stack
    name = conformance_cloud.function_name("process-task")
    _, resource = _function_resource(conformance_cloud, name)
    role_logical_id = resource["Properties"]["Role"]["Fn::GetAtt"][0]
    # When its configuration and the stack's role resource are read
    role = conformance_cloud.client("lambda").get_function_configuration(FunctionName=name)["Role"]
    physical = conformance_cloud.client("cloudformation").describe_stack_resource(
        StackName=conformance_cloud.state["stackName"], LogicalResourceId=role_logical_id
    )["StackResourceDetail"]["PhysicalResourceId"]
    # Then the function's role ARN names that role
    assert role.startswith("arn:aws:iam::123456789012:role/")
    assert role.rsplit("/", 1)[1] == physical


def test_get_policy_renders_the_templates_permissions(
    conformance_cloud: LocalCloudProcess, aws: Callable[..., CliResult]
) -> None:
    # Given submit-task, which API Gateway may invoke (AWS::Lambda::Permission in the template)
    name = conformance_cloud.function_name("submit-task")
    logical_id, _ = _function_resource(conformance_cloud, name)
    permissions = [
        resource
        for resource in _template(conformance_cloud)["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Permission"
        and logical_id in json.dumps(resource["Properties"]["FunctionName"])
    ]
    assert permissions, "the template grants API Gateway access to submit-task"
    # When its policy is read through the CLI
    result = aws("lambda", "get-policy", "--function-name", name)
    # Then it is a policy document with one statement per permission, as Lambda renders them
    assert result.returncode == 0, result.stderr
    policy = json.loads(result.json()["Policy"])
    assert policy["Version"] == "2012-10-17"
    assert len(policy["Statement"]) == len(permissions)
    arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
        assert statement["Action"] == "lambda:InvokeFunction"
        assert statement["Resource"] == arn
        assert statement["Condition"]["ArnLike"]["AWS:SourceArn"].startswith("arn:aws:execute-api:")
    assert UUID.match(result.json()["RevisionId"])


def test_get_policy_of_a_function_without_permissions_is_not_found(
    conformance_cloud: LocalCloudProcess, aws: Callable[..., CliResult]
) -> None:
    # Given start-execution, which only its event source mapping invokes (no permission)
    name = conformance_cloud.function_name("start-execution")
    # When its policy is read
    result = aws("lambda", "get-policy", "--function-name", name)
    # Then Lambda's not-found error answers
    assert result.returncode != 0
    assert "ResourceNotFoundException" in result.stderr
    assert "The resource you requested does not exist." in result.stderr


@pytest.mark.parametrize("key", FUNCTION_KEYS)
def test_get_function_concurrency_is_the_templates(
    conformance_cloud: LocalCloudProcess, key: str
) -> None:
    # Given a function and its template resource
    name = conformance_cloud.function_name(key)
    _, resource = _function_resource(conformance_cloud, name)
    reserved = resource["Properties"].get("ReservedConcurrentExecutions")
    # When its concurrency is read
    answer = conformance_cloud.client("lambda").get_function_concurrency(FunctionName=name)
    answer.pop("ResponseMetadata")
    # Then it is the reserved concurrency, or an empty answer when there is none
    assert answer == ({} if reserved is None else {"ReservedConcurrentExecutions": reserved})


def test_url_and_event_invoke_configs_are_not_found_as_on_aws(
    conformance_cloud: LocalCloudProcess, aws: Callable[..., CliResult]
) -> None:
    # Given a function without a URL or an asynchronous invocation configuration
    name = conformance_cloud.function_name("process-task")
    client = conformance_cloud.client("lambda")
    # When they are read
    url = aws("lambda", "get-function-url-config", "--function-name", name)
    invoke = aws("lambda", "get-function-event-invoke-config", "--function-name", name)
    # Then each is Lambda's 404 ResourceNotFoundException, and the lists are empty
    assert url.returncode != 0 and "ResourceNotFoundException" in url.stderr
    assert invoke.returncode != 0 and "ResourceNotFoundException" in invoke.stderr
    assert "doesn't have an EventInvokeConfig" in invoke.stderr
    assert client.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"] == []
    listed = client.list_function_event_invoke_configs(FunctionName=name)
    assert listed["FunctionEventInvokeConfigs"] == []


def test_an_unknown_function_is_not_found_on_every_sub_resource(
    conformance_cloud: LocalCloudProcess,
) -> None:
    # Given a function name the stack does not have
    client = conformance_cloud.client("lambda")
    missing = "no-such-function"
    # When its sub-resources are read / Then each answers ResourceNotFoundException
    calls = [
        lambda: client.get_policy(FunctionName=missing),
        lambda: client.list_aliases(FunctionName=missing),
        lambda: client.list_versions_by_function(FunctionName=missing),
        lambda: client.get_function_concurrency(FunctionName=missing),
        lambda: client.list_tags(
            Resource=f"arn:aws:lambda:us-east-1:123456789012:function:{missing}"
        ),
    ]
    assert {_error_code(call) for call in calls} == {"ResourceNotFoundException"}


# -- event source mappings ---------------------------------------------------------------------


def _template_mappings(cloud: LocalCloudProcess) -> list[dict[str, Any]]:
    return [
        resource["Properties"]
        for resource in _template(cloud)["Resources"].values()
        if resource["Type"] == "AWS::Lambda::EventSourceMapping"
    ]


def test_the_cli_lists_both_running_mappings(
    conformance_cloud: LocalCloudProcess, aws: Callable[..., CliResult]
) -> None:
    # Given the stack's two SQS event source mappings
    queues = {url.rsplit("/", 1)[1] for url in conformance_cloud.state["queues"].values()}
    # When the CLI lists the mappings
    result = aws("lambda", "list-event-source-mappings")
    # Then both are there, enabled, with the template's settings
    assert result.returncode == 0, result.stderr
    mappings = result.json()["EventSourceMappings"]
    template = _template_mappings(conformance_cloud)
    assert len(mappings) == len(template) == 2
    functions = {
        conformance_cloud.function_name("start-execution"),
        conformance_cloud.function_name("monitor-dlq"),
    }
    assert {m["FunctionArn"].rsplit(":", 1)[1] for m in mappings} == functions
    for mapping in mappings:
        assert UUID.match(mapping["UUID"])
        assert mapping["EventSourceArn"].rsplit(":", 1)[1] in queues
        assert mapping["State"] == "Enabled"
        assert mapping["StateTransitionReason"] == "USER_INITIATED"
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        # A timestamp: epoch seconds on the wire, which CLI v1 prints as they come
        assert isinstance(mapping["LastModified"], float | int)
        assert mapping["EventSourceMappingArn"].endswith(f":event-source-mapping:{mapping['UUID']}")
    expected = sorted(
        (p.get("BatchSize", 10), p.get("MaximumBatchingWindowInSeconds", 0)) for p in template
    )
    assert (
        sorted((m["BatchSize"], m["MaximumBatchingWindowInSeconds"]) for m in mappings) == expected
    )
    concurrency = sorted(
        p["ScalingConfig"]["MaximumConcurrency"] for p in template if "ScalingConfig" in p
    )
    assert (
        sorted(m["ScalingConfig"]["MaximumConcurrency"] for m in mappings if "ScalingConfig" in m)
        == concurrency
    )


def test_mappings_filter_page_and_get_by_uuid(conformance_cloud: LocalCloudProcess) -> None:
    # Given the mappings
    client = conformance_cloud.client("lambda")
    everything = client.list_event_source_mappings()["EventSourceMappings"]
    starter = conformance_cloud.function_name("start-execution")
    # When they are listed by function, a page at a time, and read one by one
    by_function = client.list_event_source_mappings(FunctionName=starter)["EventSourceMappings"]
    pages = client.get_paginator("list_event_source_mappings").paginate(
        PaginationConfig={"PageSize": 1}
    )
    paged = [m["UUID"] for page in pages for m in page["EventSourceMappings"]]
    by_queue = client.list_event_source_mappings(EventSourceArn=everything[0]["EventSourceArn"])
    # Then each view agrees with the full list
    assert [m["FunctionArn"].rsplit(":", 1)[1] for m in by_function] == [starter]
    assert paged == [m["UUID"] for m in everything]
    assert [m["UUID"] for m in by_queue["EventSourceMappings"]] == [everything[0]["UUID"]]
    for mapping in everything:
        got = client.get_event_source_mapping(UUID=mapping["UUID"])
        assert got["EventSourceArn"] == mapping["EventSourceArn"]
        assert got["BatchSize"] == mapping["BatchSize"]
    # And an unknown UUID is Lambda's not-found error
    missing = "00000000-0000-0000-0000-000000000000"
    assert _error_code(lambda: client.get_event_source_mapping(UUID=missing)) == (
        "ResourceNotFoundException"
    )


def test_update_changes_the_batch_size_from_the_next_poll(
    conformance_cloud: LocalCloudProcess, aws: Callable[..., CliResult]
) -> None:
    # Given the dead-letter queue's mapping (idle in this workload)
    client = conformance_cloud.client("lambda")
    monitor = conformance_cloud.function_name("monitor-dlq")
    mapping = client.list_event_source_mappings(FunctionName=monitor)["EventSourceMappings"][0]
    before = mapping["BatchSize"]
    try:
        # When its batch size is changed with the CLI
        result = aws(
            "lambda", "update-event-source-mapping", "--uuid", mapping["UUID"], "--batch-size", "3"
        )
        # Then the answer carries the new size, and the mapping settles Enabled with it
        assert result.returncode == 0, result.stderr
        assert result.json()["BatchSize"] == 3
        assert result.json()["State"] in {"Updating", "Enabled"}
        wait_for(
            lambda: client.get_event_source_mapping(UUID=mapping["UUID"])["State"] == "Enabled",
            30,
            "the update to apply",
        )
        assert client.get_event_source_mapping(UUID=mapping["UUID"])["BatchSize"] == 3
    finally:
        client.update_event_source_mapping(UUID=mapping["UUID"], BatchSize=before)


def test_update_refuses_what_lambda_refuses(conformance_cloud: LocalCloudProcess) -> None:
    # Given a mapping
    client = conformance_cloud.client("lambda")
    before = client.list_event_source_mappings()["EventSourceMappings"][0]
    uuid = before["UUID"]
    # When invalid changes are asked for / Then each is refused with Lambda's error code
    assert _error_code(lambda: client.update_event_source_mapping(UUID=uuid, BatchSize=20000)) == (
        "ValidationException"
    )
    assert (
        _error_code(
            lambda: client.update_event_source_mapping(
                UUID=uuid, BatchSize=50, MaximumBatchingWindowInSeconds=0
            )
        )
        == "InvalidParameterValueException"
    )
    # And mappings are the template's: create and delete are refused, not faked
    assert (
        _error_code(
            lambda: client.create_event_source_mapping(
                EventSourceArn="arn:aws:sqs:us-east-1:123456789012:x", FunctionName="x"
            )
        )
        == "InvalidParameterValueException"
    )
    assert _error_code(lambda: client.delete_event_source_mapping(UUID=uuid)) == (
        "InvalidParameterValueException"
    )
    after = client.get_event_source_mapping(UUID=uuid)
    assert (after["BatchSize"], after["MaximumBatchingWindowInSeconds"]) == (
        before["BatchSize"],
        before["MaximumBatchingWindowInSeconds"],
    )
