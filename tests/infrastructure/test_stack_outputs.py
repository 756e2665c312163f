"""Stack outputs: every endpoint, ARN and name a user or the local tooling needs."""

from __future__ import annotations

import pytest

from infra import names

REQUIRED = [
    "ApiUrl",
    "TasksEndpoint",
    "StateMachineArn",
    "StateMachineConsoleUrl",
    "TaskQueueUrl",
    "DeadLetterQueueUrl",
    "TasksTableName",
    "DashboardUrl",
]


def _joined(value):
    """An output value as text: references shown as <LogicalId> / <LogicalId.Attr>."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetAtt" in value:
        return "<{}.{}>".format(*value["Fn::GetAtt"])
    separator, parts = value["Fn::Join"]
    return separator.join(_joined(part) for part in parts)


@pytest.mark.parametrize("output_id", REQUIRED)
def test_required_output_exists_with_a_description(stack, output_id):
    output = stack.template["Outputs"][output_id]
    assert output["Description"]
    assert output["Value"]


def test_outputs_reference_the_right_resources(stack):
    outputs = {key: _joined(o["Value"]) for key, o in stack.template["Outputs"].items()}
    sm_id, _ = stack.only("AWS::StepFunctions::StateMachine")
    table_id, _ = stack.only("AWS::DynamoDB::Table")
    api_id, _ = stack.only("AWS::ApiGateway::RestApi")
    stage_id, _ = stack.only("AWS::ApiGateway::Stage")
    assert outputs["StateMachineArn"] == f"<{sm_id}>"
    assert outputs["TaskQueueUrl"] == f"<{stack.task_queue_id}>"
    assert outputs["DeadLetterQueueUrl"] == f"<{stack.dead_letter_queue_id}>"
    assert outputs["TasksTableName"] == f"<{table_id}>"
    assert outputs["ApiUrl"].startswith(f"https://<{api_id}>.execute-api.<AWS::Region>.")
    assert outputs["ApiUrl"].endswith(f"/<{stage_id}>/")
    assert outputs["TasksEndpoint"] == outputs["ApiUrl"] + "tasks"
    assert outputs["StateMachineConsoleUrl"] == (
        "https://<AWS::Region>.console.aws.amazon.com/states/home?region=<AWS::Region>"
        f"#/statemachines/view/<{sm_id}>"
    )


@pytest.mark.parametrize("spec", names.ALL_FUNCTIONS, ids=lambda s: s.key)
def test_each_function_name_is_an_output(stack, spec):
    output = stack.template["Outputs"][names.function_output_id(spec)]
    assert output["Value"] == {"Ref": stack.function_id(spec)}


def test_no_duplicate_endpoint_output(stack):
    # RestApi's own `Endpoint` output would duplicate ApiUrl
    assert not [key for key in stack.template["Outputs"] if key.startswith("ApiEndpoint")]
