"""Refuse what is not there: an operation of an emulated service that the local cloud does not
implement is answered with AWS's error for an unknown operation, never a 2xx or moto's 500.

The shapes: JSON protocol (Step Functions, CloudWatch Logs, DynamoDB, SQS) 400
`UnknownOperationException`; query protocol (CloudFormation) 400 `InvalidAction`; the REST
APIs (Lambda, FIS) 404 `UnknownOperationException`. Each operation below is one a console or
the AWS CLI calls and that neither moto nor a handler of the endpoint implements, or one moto would
answer with data AWS would not give.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import botocore.exceptions
import pytest

from tests.support.aws_cli import CliResult
from tests.support.local_cloud import LocalCloudProcess

ACCOUNT = "123456789012"
REGION = "us-east-1"
EXECUTION = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:machine:run"
MACHINE = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:machine"
ACTIVITY = f"arn:aws:states:{REGION}:{ACCOUNT}:activity:activity"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:queue"

UNKNOWN = "UnknownOperationException"
# (service, botocore method, arguments, AWS's error code, HTTP status)
REFUSED: list[tuple[str, str, dict[str, Any], str, int]] = [
    ("stepfunctions", "redrive_execution", {"executionArn": EXECUTION}, UNKNOWN, 400),
    ("stepfunctions", "validate_state_machine_definition", {"definition": "{}"}, UNKNOWN, 400),
    ("stepfunctions", "list_state_machine_versions", {"stateMachineArn": MACHINE}, UNKNOWN, 400),
    ("stepfunctions", "get_activity_task", {"activityArn": ACTIVITY}, UNKNOWN, 400),
    ("logs", "get_log_group_fields", {"logGroupName": "/aws/lambda/x"}, UNKNOWN, 400),
    ("logs", "list_anomalies", {}, UNKNOWN, 400),
    ("sqs", "list_message_move_tasks", {"SourceArn": QUEUE_ARN}, UNKNOWN, 400),
    ("sqs", "start_message_move_task", {"SourceArn": QUEUE_ARN}, UNKNOWN, 400),
    ("dynamodb", "describe_contributor_insights", {"TableName": "t"}, UNKNOWN, 400),
    ("dynamodb", "describe_kinesis_streaming_destination", {"TableName": "t"}, UNKNOWN, 400),
    ("dynamodb", "list_imports", {}, UNKNOWN, 400),
    ("dynamodb", "describe_limits", {}, UNKNOWN, 400),
    ("dynamodb", "describe_endpoints", {}, UNKNOWN, 400),
    ("cloudformation", "describe_stack_drift_detection_status", {"StackDriftDetectionId": "d"},
     "InvalidAction", 400),
    ("cloudformation", "list_type_registrations", {}, "InvalidAction", 400),
    ("lambda", "get_account_settings", {}, UNKNOWN, 404),
    ("lambda", "get_function_recursion_config", {"FunctionName": "f"}, UNKNOWN, 404),
    ("lambda", "list_code_signing_configs", {}, UNKNOWN, 404),
    ("lambda", "get_runtime_management_config", {"FunctionName": "f"}, UNKNOWN, 404),
    ("lambda", "publish_version", {"FunctionName": "f"}, UNKNOWN, 404),
    ("fis", "list_actions", {}, UNKNOWN, 404),
    ("fis", "create_experiment_template", {"clientToken": "t", "description": "d",
     "roleArn": f"arn:aws:iam::{ACCOUNT}:role/fis", "stopConditions": [{"source": "none"}],
     "actions": {}}, UNKNOWN, 404),
    ("fis", "list_target_account_configurations", {"experimentTemplateId": "EXT1"}, UNKNOWN, 404),
]  # fmt: skip


@pytest.mark.parametrize(
    ("service", "method", "arguments", "code", "status"),
    REFUSED,
    ids=[f"{service}.{method}" for service, method, *_ in REFUSED],
)
def test_an_operation_the_local_cloud_does_not_implement_is_refused_in_aws_shape(
    conformance_cloud: LocalCloudProcess,
    service: str,
    method: str,
    arguments: dict[str, Any],
    code: str,
    status: int,
) -> None:
    # Given the running endpoint and an operation nobody implements there
    client = conformance_cloud.client(service)
    # When botocore calls it
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        getattr(client, method)(**arguments)
    # Then AWS's unknown-operation error, in the service's protocol, naming the operation
    response = raised.value.response
    assert response["Error"]["Code"] == code
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status
    operation = client.meta.method_to_api_mapping[method]
    assert operation in response["Error"]["Message"]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("stepfunctions", "redrive-execution", "--execution-arn", EXECUTION), "UnknownOperation"),
        (("cloudformation", "list-type-registrations"), "InvalidAction"),
        (("lambda", "get-account-settings"), "UnknownOperation"),
        (("dynamodb", "describe-limits"), "UnknownOperation"),
    ],
)
def test_the_cli_reports_the_refusal(
    aws: Callable[..., CliResult], args: tuple[str, ...], code: str
) -> None:
    # Given the running endpoint / When the CLI calls an operation it does not implement
    result = aws(*args)
    # Then the CLI fails with AWS's error code, not a parsing error or a 500
    assert result.returncode != 0
    assert code in result.stderr
    assert "500" not in result.stderr and "Unable to parse" not in result.stderr


# The reads consoles make that the endpoint answers (moto or a handler): never refused.
ANSWERED: list[tuple[str, str, dict[str, Any]]] = [
    ("stepfunctions", "list_state_machines", {}),
    ("stepfunctions", "list_activities", {}),
    ("logs", "describe_log_groups", {}),
    ("logs", "describe_metric_filters", {}),
    ("sqs", "list_queues", {}),
    ("dynamodb", "list_tables", {}),
    ("lambda", "list_functions", {}),
    ("lambda", "list_event_source_mappings", {}),
    ("cloudformation", "list_stacks", {}),
    ("fis", "list_experiment_templates", {}),  # the stack without -c chaos=true: none
    ("fis", "list_experiments", {}),
]


@pytest.mark.parametrize(
    ("service", "method", "arguments"),
    ANSWERED,
    ids=[f"{service}.{method}" for service, method, _ in ANSWERED],
)
def test_an_operation_the_local_cloud_implements_is_answered(
    conformance_cloud: LocalCloudProcess, service: str, method: str, arguments: dict[str, Any]
) -> None:
    # Given the running endpoint / When a read it implements is called
    answer = getattr(conformance_cloud.client(service), method)(**arguments)
    # Then it succeeds
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_the_step_functions_console_reads_of_an_execution_are_answered(
    conformance_cloud: LocalCloudProcess,
) -> None:
    # Given an execution of the stack's state machine
    sfn = conformance_cloud.client("stepfunctions")
    arn = conformance_cloud.execution_arn("conf-ok-0")
    # When the console lists the execution's map runs
    map_runs = sfn.list_map_runs(executionArn=arn)
    # Then an execution without a Map state has no map runs, as on AWS
    assert map_runs["mapRuns"] == []
