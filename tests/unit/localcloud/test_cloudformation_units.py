"""The local stack's description and its query-protocol answers, without a cloud."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode
from xml.etree import ElementTree

from werkzeug.test import EnvironBuilder

from ftb.localcloud.cloudformation import CloudFormationApi, describe_stack
from ftb.localcloud.endpoint.calls import identify
from ftb.localcloud.template import Resolver, StackContext, load_template

NS = {"cf": "http://cloudformation.amazonaws.com/doc/2010-05-15/"}
BODY = {
    "Description": "a stack",
    "Parameters": {"Stage": {"Type": "String", "Default": "v1"}},
    "Conditions": {"Never": {"Fn::Equals": ["a", "b"]}},
    "Resources": {
        "Queue": {"Type": "AWS::SQS::Queue"},
        "Role": {"Type": "AWS::IAM::Role"},
        "Skipped": {"Type": "AWS::SNS::Topic", "Condition": "Never"},
    },
    "Outputs": {"QueueUrl": {"Value": {"Ref": "Queue"}, "Description": "the queue"}},
}


def api(tmp_path: Path) -> CloudFormationApi:
    path = tmp_path / "Stack.template.json"
    path.write_text(json.dumps(BODY))
    artifact = {
        "type": "aws:cloudformation:stack",
        "properties": {
            "templateFile": path.name,
            "tags": {"team": "t"},
            "terminationProtection": True,
        },
    }
    (tmp_path / "manifest.json").write_text(json.dumps({"artifacts": {"Stack": artifact}}))
    template = load_template(path, "Stack")
    resolver = Resolver(template, StackContext(stack_name="Stack"), {})
    resolver.set_resource("Queue", "http://local/123456789012/Stack-Queue")
    resolver.set_resource("Role", "Stack-Role")
    stack = describe_stack(
        template,
        resolver,
        {"QueueUrl": "http://local/123456789012/Stack-Queue"},
        {"AWS::IAM::Role": ["Role"]},
        datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
    )
    return CloudFormationApi(stack)


def call(handler: CloudFormationApi, **params: str) -> tuple[int, ElementTree.Element]:
    builder = EnvironBuilder(
        method="POST",
        path="/",
        data=urlencode({"Version": "2010-05-15", **params}),
        content_type="application/x-www-form-urlencoded",
    )
    response = handler.handle(identify(builder.get_environ()))
    assert response is not None
    return response.status_code, ElementTree.fromstring(response.get_data())


def test_describe_stacks_answers_the_local_stack(tmp_path: Path) -> None:
    # When the stack is described by name
    status, root = call(api(tmp_path), Action="DescribeStacks", StackName="Stack")
    # Then it is CREATE_COMPLETE with its parameters and local outputs
    assert status == 200
    stack = root.find(".//cf:Stacks/cf:member", NS)
    assert stack is not None
    assert stack.findtext("cf:StackStatus", namespaces=NS) == "CREATE_COMPLETE"
    assert stack.findtext("cf:CreationTime", namespaces=NS) == "2024-05-01T12:00:00.000Z"
    assert stack.findtext(".//cf:Parameters/cf:member/cf:ParameterValue", namespaces=NS) == "v1"
    output = stack.find(".//cf:Outputs/cf:member", NS)
    assert output is not None
    assert output.findtext("cf:OutputValue", namespaces=NS).endswith("/Stack-Queue")  # type: ignore[union-attr]
    assert output.findtext("cf:Description", namespaces=NS) == "the queue"
    # And the cloud assembly's stack tags and termination protection, as `cdk deploy` sets them
    assert stack.findtext(".//cf:Tags/cf:member/cf:Key", namespaces=NS) == "team"
    assert stack.findtext(".//cf:Tags/cf:member/cf:Value", namespaces=NS) == "t"
    assert stack.findtext("cf:EnableTerminationProtection", namespaces=NS) == "true"


def test_an_unknown_stack_is_a_validation_error(tmp_path: Path) -> None:
    status, root = call(api(tmp_path), Action="ListStackResources", StackName="Other")
    assert status == 400
    assert root.findtext(".//cf:Code", namespaces=NS) == "ValidationError"
    assert root.findtext(".//cf:Message", namespaces=NS) == "Stack with id Other does not exist"


def test_resources_skip_false_conditions_and_mark_placeholders(tmp_path: Path) -> None:
    status, root = call(api(tmp_path), Action="ListStackResources", StackName="Stack")
    assert status == 200
    members = root.findall(".//cf:StackResourceSummaries/cf:member", NS)
    by_id = {m.findtext("cf:LogicalResourceId", namespaces=NS): m for m in members}
    assert set(by_id) == {"Queue", "Role"}
    assert by_id["Queue"].find("cf:ResourceStatusReason", NS) is None
    reason = by_id["Role"].findtext("cf:ResourceStatusReason", namespaces=NS)
    assert reason is not None and "Not emulated" in reason


def test_other_operations_are_refused_not_left_to_moto(tmp_path: Path) -> None:
    # When an operation the local stack does not serve is called (moto would answer it wrongly)
    status, root = call(api(tmp_path), Action="CreateStack", StackName="Other")
    # Then it is refused with the query protocol's InvalidAction, naming what is served
    assert status == 400
    assert root.findtext(".//cf:Code", namespaces=NS) == "InvalidAction"
    message = root.findtext(".//cf:Message", namespaces=NS) or ""
    assert "CreateStack" in message and "DescribeStacks" in message
