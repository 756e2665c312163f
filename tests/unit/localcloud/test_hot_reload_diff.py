"""The template diff of a hot reload, and what of it is applied live or named."""

from __future__ import annotations

import copy
from typing import Any

from ftb.localcloud.deploy import (
    Action,
    ResourceChange,
    diff_templates,
    effective_body,
    plan_changes,
)
from ftb.localcloud.provision import PROVISIONERS

EMULATED = set(PROVISIONERS)


def template() -> dict[str, Any]:
    return {
        "Resources": {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Handler": "app.handler",
                    "Code": {"S3Key": "aaa.zip"},
                    "Environment": {"Variables": {"A": "1"}},
                },
                "Metadata": {"aws:asset:path": "asset.aaa", "aws:cdk:path": "Stack/Fn/Resource"},
            },
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 30}},
            "Table": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                },
            },
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {"DefinitionString": '{"StartAt": "A"}'},
            },
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"Path": "/"}},
            "Mapping": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {"BatchSize": 10, "FunctionName": {"Ref": "Fn"}},
            },
        },
        "Outputs": {"QueueUrl": {"Value": {"Ref": "Queue"}}},
    }


def test_identical_templates_have_no_difference() -> None:
    # Given two copies of one template
    # When they are compared
    diff = diff_templates(template(), template())
    # Then nothing differs
    assert diff.empty


def test_construct_path_metadata_is_not_a_change_but_the_asset_path_is() -> None:
    # Given a function whose construct path moved, and then whose asset changed
    moved, recoded = template(), template()
    moved["Resources"]["Fn"]["Metadata"]["aws:cdk:path"] = "Stack/Other/Resource"
    recoded["Resources"]["Fn"]["Metadata"]["aws:asset:path"] = "asset.bbb"
    recoded["Resources"]["Fn"]["Properties"]["Code"] = {"S3Key": "bbb.zip"}
    # When each is compared with the original
    # Then only the new asset is a change, of the function's code
    assert diff_templates(template(), moved).empty
    assert diff_templates(template(), recoded).changes == (
        ResourceChange("Fn", "AWS::Lambda::Function", Action.MODIFY, ("Code",)),
    )


def test_additions_removals_and_type_changes() -> None:
    # Given a queue added, the IAM role removed, and the table turned into a queue
    new = template()
    new["Resources"]["Extra"] = {"Type": "AWS::SQS::Queue", "Properties": {}}
    del new["Resources"]["Role"]
    new["Resources"]["Table"] = {"Type": "AWS::SQS::Queue", "Properties": {}}
    # When compared
    changes = diff_templates(template(), new).changes
    # Then each is listed by logical id; a type change is a removal and an addition
    assert set(changes) == {
        ResourceChange("Extra", "AWS::SQS::Queue", Action.ADD),
        ResourceChange("Role", "AWS::IAM::Role", Action.REMOVE),
        ResourceChange("Table", "AWS::DynamoDB::Table", Action.REMOVE),
        ResourceChange("Table", "AWS::SQS::Queue", Action.ADD),
    }


def test_outputs_changes_are_noticed() -> None:
    new = template()
    new["Outputs"]["Other"] = {"Value": "x"}
    assert diff_templates(template(), new).outputs_changed


def test_code_configuration_workflow_and_queue_attributes_are_applied_live() -> None:
    # Given new code and environment, a new workflow, a longer visibility timeout, a new
    # batch size and a new queue
    new = template()
    resources = new["Resources"]
    resources["Fn"]["Properties"]["Code"] = {"S3Key": "bbb.zip"}
    resources["Fn"]["Properties"]["Environment"] = {"Variables": {"A": "2"}}
    resources["Machine"]["Properties"]["DefinitionString"] = '{"StartAt": "B"}'
    resources["Queue"]["Properties"]["VisibilityTimeout"] = 60
    resources["Mapping"]["Properties"]["BatchSize"] = 5
    resources["Extra"] = {"Type": "AWS::SQS::Queue", "Properties": {}}
    # When planned
    plan = plan_changes(diff_templates(template(), new), EMULATED)
    # Then every change is applied and none is named
    assert {item.change.logical_id for item in plan.applied} == {
        "Fn",
        "Machine",
        "Queue",
        "Mapping",
        "Extra",
    }
    assert plan.named == []


def test_a_table_key_change_and_a_queue_rename_are_named_with_what_to_do() -> None:
    # Given a table whose key changed and a queue given a name
    new = template()
    resources = new["Resources"]
    resources["Table"]["Properties"]["KeySchema"] = [{"AttributeName": "id", "KeyType": "HASH"}]
    resources["Queue"]["Properties"]["QueueName"] = "renamed"
    # When planned
    plan = plan_changes(diff_templates(template(), new), EMULATED)
    # Then neither is applied: each says what needs a new resource and how to get it
    assert plan.applied == []
    named = {item.change.logical_id: item for item in plan.named}
    assert set(named) == {"Table", "Queue"}
    assert "KeySchema" in named["Table"].what
    assert "QueueName" in named["Queue"].what
    assert all("start it again" in item.todo for item in named.values())


def test_removing_a_table_keeps_it_and_says_so() -> None:
    new = template()
    del new["Resources"]["Table"]
    plan = plan_changes(diff_templates(template(), new), EMULATED)
    assert [item.change.logical_id for item in plan.named] == ["Table"]
    assert "items stay" in plan.named[0].what


def test_removing_a_queue_or_a_function_is_applied() -> None:
    new = template()
    del new["Resources"]["Queue"]
    del new["Resources"]["Fn"]
    plan = plan_changes(diff_templates(template(), new), EMULATED)
    assert {item.change.logical_id for item in plan.applied} == {"Queue", "Fn"}


def test_unemulated_types_have_no_local_effect() -> None:
    new = template()
    new["Resources"]["Role"]["Properties"]["Path"] = "/other/"
    plan = plan_changes(diff_templates(template(), new), EMULATED)
    assert [item.change.logical_id for item in plan.quiet] == ["Role"]
    assert plan.applied == plan.named == []


def test_the_effective_template_keeps_what_was_not_applied() -> None:
    # Given a new template with one change applied (the workflow) and one named (a table key)
    old, new = template(), template()
    new["Resources"]["Machine"]["Properties"]["DefinitionString"] = '{"StartAt": "B"}'
    new["Resources"]["Table"]["Properties"]["KeySchema"] = [
        {"AttributeName": "id", "KeyType": "HASH"}
    ]
    plan = plan_changes(diff_templates(old, new), EMULATED)
    # When the running template is worked out
    body = effective_body(old, new, plan)
    # Then the workflow is the new one, the table the old one: the next reload names it again
    assert body["Resources"]["Machine"] == new["Resources"]["Machine"]
    assert body["Resources"]["Table"] == old["Resources"]["Table"]
    again = plan_changes(diff_templates(body, copy.deepcopy(new)), EMULATED)
    assert [item.change.logical_id for item in again.named] == ["Table"]
