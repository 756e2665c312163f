"""The calls a third-party console makes, replayed with botocore: StackPort's (0.4.6, from
PyPI) views of the stack's functions, executions, queues, log groups and the stack itself,
with the arguments it sends (read from its backend/routes/*.py and recorded at the endpoint).

Each answer is checked against the operation's output shape in botocore's model (every
required member present, every value of its documented type and enum) and against what the
local cloud holds; the calls the console would make that the endpoint cannot emulate are
refused in AWS's shape.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.model import ListShape, MapShape, Shape, StructureShape
from botocore.response import StreamingBody

from tests.conformance.conftest import WORKLOAD_FAILING, WORKLOAD_SUCCEEDING
from tests.support.local_cloud import LocalCloudProcess

FUNCTION_KEYS = ["submit-task", "get-task", "start-execution", "process-task", "monitor-dlq"]
_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "integer": int,
    "long": int,
    "boolean": bool,
    "timestamp": datetime.datetime,
    "blob": (bytes, bytearray, StreamingBody),  # a streaming payload: a body to read
    "double": (int, float),
    "float": (int, float),
}


def assert_shape(value: Any, shape: Shape, path: str = "") -> None:
    """`value` as botocore parsed it fits `shape`: required members, types, enums."""
    if isinstance(shape, StructureShape):
        assert isinstance(value, dict), f"{path}: {value!r} is not a structure"
        for required in shape.required_members:
            assert required in value, f"{path}.{required} is required but missing"
        for name, member in value.items():
            if name == "ResponseMetadata":
                continue
            assert name in shape.members, f"{path}.{name} is not a member of {shape.name}"
            assert_shape(member, shape.members[name], f"{path}.{name}")
    elif isinstance(shape, ListShape):
        assert isinstance(value, list), f"{path}: {value!r} is not a list"
        for index, item in enumerate(value):
            assert_shape(item, shape.member, f"{path}[{index}]")
    elif isinstance(shape, MapShape):
        assert isinstance(value, dict), f"{path}: {value!r} is not a map"
        for key, item in value.items():
            assert_shape(key, shape.key, f"{path} key")
            assert_shape(item, shape.value, f"{path}[{key}]")
    else:
        expected = _TYPES.get(shape.type_name)
        if expected is not None:
            assert isinstance(value, expected), f"{path}: {value!r} is not {shape.type_name}"
        enum = getattr(shape, "enum", None)  # string shapes only
        if enum:
            assert value in enum, f"{path}: {value!r} is not one of {enum}"


def console_call(
    cloud: LocalCloudProcess, service: str, operation: str, **params: Any
) -> dict[str, Any]:
    """Call as the console does and check the answer against the operation's output shape."""
    client = cloud.client(service)
    answer: dict[str, Any] = getattr(client, operation)(**params)
    model = client.meta.service_model.operation_model(client.meta.method_to_api_mapping[operation])
    assert model.output_shape is not None
    assert_shape(answer, model.output_shape, operation)
    return answer


def refused(call: Callable[[], Any]) -> tuple[str, int]:
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return str(response["Error"]["Code"]), int(response["ResponseMetadata"]["HTTPStatusCode"])


# -- the dashboard: one listing call per service -----------------------------------------------


def test_the_dashboard_counts_the_stacks_resources(conformance_cloud: LocalCloudProcess) -> None:
    # Given the running stack / When the console lists each service as its dashboard does
    cloud, outputs = conformance_cloud, conformance_cloud.outputs
    functions = console_call(cloud, "lambda", "list_functions")["Functions"]
    queues = console_call(cloud, "sqs", "list_queues")["QueueUrls"]
    groups = console_call(cloud, "logs", "describe_log_groups", limit=50)["logGroups"]
    machines = console_call(cloud, "stepfunctions", "list_state_machines")["stateMachines"]
    stacks = console_call(cloud, "cloudformation", "list_stacks")["StackSummaries"]
    tables = console_call(cloud, "dynamodb", "list_tables")["TableNames"]
    # Then each lists the stack's own resources
    names = {cloud.function_name(key) for key in FUNCTION_KEYS}
    assert {f["FunctionName"] for f in functions} == names
    assert set(queues) == {outputs["TaskQueueUrl"], outputs["DeadLetterQueueUrl"]}
    assert {f"/aws/lambda/{name}" for name in names} <= {g["logGroupName"] for g in groups}
    assert [m["stateMachineArn"] for m in machines] == [outputs["StateMachineArn"]]
    assert [(s["StackName"], s["StackStatus"]) for s in stacks] == [
        (cloud.state["stackName"], "CREATE_COMPLETE")
    ]
    assert outputs["TasksTableName"] in tables


# -- the Lambda view ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", FUNCTION_KEYS)
def test_the_function_view(conformance_cloud: LocalCloudProcess, key: str) -> None:
    # Given a function of the stack
    cloud, name = conformance_cloud, conformance_cloud.function_name(key)
    # When the console opens it: GetFunction, its mappings, aliases and versions
    function = console_call(cloud, "lambda", "get_function", FunctionName=name)
    mappings = console_call(cloud, "lambda", "list_event_source_mappings", FunctionName=name)
    aliases = console_call(cloud, "lambda", "list_aliases", FunctionName=name)
    versions = console_call(cloud, "lambda", "list_versions_by_function", FunctionName=name)
    # Then the function is described with its package, and its sub-resources are the stack's
    assert function["Configuration"]["FunctionName"] == name
    assert function["Code"]["Location"].startswith(cloud.endpoint_url)
    assert function["Tags"]["aws:cloudformation:stack-name"] == cloud.state["stackName"]
    assert aliases["Aliases"] == []
    assert [v["Version"] for v in versions["Versions"]] == ["$LATEST"]
    queues = {
        "start-execution": cloud.outputs["TaskQueueUrl"],
        "monitor-dlq": cloud.outputs["DeadLetterQueueUrl"],
    }
    expected = [queues[key].rsplit("/", 1)[1]] if key in queues else []
    sources = [m["EventSourceArn"].rsplit(":", 1)[1] for m in mappings["EventSourceMappings"]]
    assert sources == expected
    assert all(
        m["FunctionArn"].endswith(f":function:{name}") for m in mappings["EventSourceMappings"]
    )


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("tag_resource", {"Tags": {"team": "x"}}),
        ("untag_resource", {"TagKeys": ["team"]}),
    ],
)
def test_the_console_tag_editor_is_refused_for_a_function(
    conformance_cloud: LocalCloudProcess, operation: str, params: dict[str, Any]
) -> None:
    # Given a function the runtime serves (moto's Lambda would answer "Function not found")
    client = conformance_cloud.client("lambda")
    arn = client.get_function(FunctionName=conformance_cloud.function_name("get-task"))[
        "Configuration"
    ]["FunctionArn"]
    # When the console's tag editor writes its tags
    code, status = refused(lambda: getattr(client, operation)(Resource=arn, **params))
    # Then the write is refused as an operation the endpoint does not know
    assert (code, status) == ("UnknownOperationException", 404)


def test_the_console_invokes_a_function(conformance_cloud: LocalCloudProcess) -> None:
    # Given a task that succeeded / When the console invokes get-task with an API event
    task_id = WORKLOAD_SUCCEEDING[0]
    event = {
        "resource": "/tasks/{taskId}",
        "path": f"/tasks/{task_id}",
        "httpMethod": "GET",
        "headers": {},
        "pathParameters": {"taskId": task_id},
        "requestContext": {"requestId": "console-invoke", "stage": "v1"},
    }
    answer = console_call(
        conformance_cloud,
        "lambda",
        "invoke",
        FunctionName=conformance_cloud.function_name("get-task"),
        InvocationType="RequestResponse",
        Payload=json.dumps(event).encode(),
    )
    # Then 200 with the function's response, the task's record
    assert answer["StatusCode"] == 200 and "FunctionError" not in answer
    response = json.loads(answer["Payload"].read())
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["taskId"] == task_id


# -- the Step Functions view -------------------------------------------------------------------


def test_the_state_machine_view(conformance_cloud: LocalCloudProcess) -> None:
    # Given the workflow that ran the workload
    cloud, machine = conformance_cloud, conformance_cloud.outputs["StateMachineArn"]
    # When the console opens it and filters its executions by status, 50 a page
    described = console_call(
        cloud, "stepfunctions", "describe_state_machine", stateMachineArn=machine
    )
    listed = console_call(
        cloud,
        "stepfunctions",
        "list_executions",
        stateMachineArn=machine,
        maxResults=50,
        statusFilter="FAILED",
    )
    # Then it is the machine, and the failed executions are exactly the failing workload
    assert described["stateMachineArn"] == machine and described["status"] == "ACTIVE"
    assert {e["name"] for e in listed["executions"]} == set(WORKLOAD_FAILING)
    assert {e["status"] for e in listed["executions"]} == {"FAILED"}


@pytest.mark.parametrize("task_id", [WORKLOAD_SUCCEEDING[0], WORKLOAD_FAILING[0]])
def test_the_execution_view_newest_events_first(
    conformance_cloud: LocalCloudProcess, task_id: str
) -> None:
    # Given an execution of the workload
    cloud = conformance_cloud
    arn = cloud.outputs["StateMachineArn"].replace(":stateMachine:", ":execution:") + f":{task_id}"
    # When the console opens it: DescribeExecution, then the history newest first
    execution = console_call(cloud, "stepfunctions", "describe_execution", executionArn=arn)
    history = console_call(
        cloud,
        "stepfunctions",
        "get_execution_history",
        executionArn=arn,
        maxResults=100,
        reverseOrder=True,
    )
    # Then the history ends where the execution ended, ids counting down to 1
    ids = [event["id"] for event in history["events"]]
    assert ids == list(range(len(ids), 0, -1))
    terminal = {"SUCCEEDED": "ExecutionSucceeded", "FAILED": "ExecutionFailed"}
    assert history["events"][0]["type"] == terminal[execution["status"]]
    assert history["events"][-1]["type"] == "ExecutionStarted"


# -- the SQS view ------------------------------------------------------------------------------


@pytest.mark.parametrize("output", ["TaskQueueUrl", "DeadLetterQueueUrl"])
def test_the_queue_view(conformance_cloud: LocalCloudProcess, output: str) -> None:
    # Given a queue of the stack
    cloud, url = conformance_cloud, conformance_cloud.outputs[output]
    name = url.rsplit("/", 1)[1]
    # When the console opens it: GetQueueUrl, all attributes, tags
    found = console_call(cloud, "sqs", "get_queue_url", QueueName=name)
    attributes = console_call(
        cloud, "sqs", "get_queue_attributes", QueueUrl=url, AttributeNames=["All"]
    )["Attributes"]
    tags = console_call(cloud, "sqs", "list_queue_tags", QueueUrl=url)["Tags"]
    # Then the queue's URL, ARN and counters, and the stack's tags
    assert found["QueueUrl"] == url
    assert attributes["QueueArn"].endswith(f":{name}")
    assert int(attributes["ApproximateNumberOfMessages"]) >= 0
    assert tags["aws:cloudformation:stack-name"] == cloud.state["stackName"]


# -- the CloudWatch Logs view ------------------------------------------------------------------


def test_the_log_group_view_newest_streams_first(conformance_cloud: LocalCloudProcess) -> None:
    # Given the process-task function's log group, written by the workload
    cloud = conformance_cloud
    group = f"/aws/lambda/{cloud.function_name('process-task')}"
    # When the console lists its streams (latest event first, 50) and opens the newest
    streams = console_call(
        cloud,
        "logs",
        "describe_log_streams",
        logGroupName=group,
        orderBy="LastEventTime",
        descending=True,
        limit=50,
    )["logStreams"]
    events = console_call(
        cloud,
        "logs",
        "get_log_events",
        logGroupName=group,
        logStreamName=streams[0]["logStreamName"],
        limit=10000,
        startFromHead=False,
    )["events"]
    # Then the streams come newest first and the newest holds the function's lines
    last_events = [s["lastEventTimestamp"] for s in streams]
    assert last_events == sorted(last_events, reverse=True)
    assert any(e["message"].startswith("START RequestId:") for e in events)


def test_the_log_filter_box_term_pattern(conformance_cloud: LocalCloudProcess) -> None:
    # Given a task of the workload / When the console filters a group's stream by its id
    cloud, task_id = conformance_cloud, WORKLOAD_FAILING[0]
    group = f"/aws/lambda/{cloud.function_name('process-task')}"
    events = console_call(
        cloud, "logs", "filter_log_events", logGroupName=group, filterPattern=f'"{task_id}"'
    )["events"]
    # Then only that task's lines come back
    assert events and all(task_id in event["message"] for event in events)


def test_the_log_filter_box_json_pattern_is_refused(conformance_cloud: LocalCloudProcess) -> None:
    # Given a JSON filter pattern, which moto would answer with every event of the group
    group = f"/aws/lambda/{conformance_cloud.function_name('process-task')}"
    logs = conformance_cloud.client("logs")
    # When the console sends it
    code, status = refused(
        lambda: logs.filter_log_events(
            logGroupName=group, filterPattern=f'{{ $.taskId = "{WORKLOAD_FAILING[0]}" }}'
        )
    )
    # Then it is refused: 400 InvalidParameterException
    assert (code, status) == ("InvalidParameterException", 400)


# -- the stack and the tag views ---------------------------------------------------------------


def test_the_stack_view(conformance_cloud: LocalCloudProcess) -> None:
    # Given the provisioned stack / When the console describes it (its detail and tags)
    cloud = conformance_cloud
    stack = console_call(
        cloud, "cloudformation", "describe_stacks", StackName=cloud.state["stackName"]
    )["Stacks"][0]
    # Then CREATE_COMPLETE, with the local outputs
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]} == cloud.outputs


def test_the_tag_views_show_the_stacks_tags(conformance_cloud: LocalCloudProcess) -> None:
    # Given the stack's state machine, log group and table
    cloud, stack_name = conformance_cloud, conformance_cloud.state["stackName"]
    group = f"/aws/lambda/{cloud.function_name('process-task')}"
    group_arn = console_call(cloud, "logs", "describe_log_groups", logGroupNamePrefix=group)[
        "logGroups"
    ][0]["arn"].removesuffix(":*")
    table = console_call(
        cloud, "dynamodb", "describe_table", TableName=cloud.outputs["TasksTableName"]
    )["Table"]
    # When the console reads their tags
    machine_tags = console_call(
        cloud,
        "stepfunctions",
        "list_tags_for_resource",
        resourceArn=cloud.outputs["StateMachineArn"],
    )["tags"]
    group_tags = console_call(cloud, "logs", "list_tags_for_resource", resourceArn=group_arn)[
        "tags"
    ]
    table_tags = console_call(
        cloud, "dynamodb", "list_tags_of_resource", ResourceArn=table["TableArn"]
    )["Tags"]
    # Then each carries CloudFormation's stack-name tag, as a deployed stack's would
    assert {"key": "aws:cloudformation:stack-name", "value": stack_name} in machine_tags
    assert group_tags["aws:cloudformation:stack-name"] == stack_name
    assert {"Key": "aws:cloudformation:stack-name", "Value": stack_name} in table_tags
