"""The local cloud's parts without a cloud: intrinsics, routing, proxy and batch rules, cache.

(Pure functions, milliseconds each; they live here with the local cloud's end-to-end tests.)
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from ftb.localcloud import synth as synth_module
from ftb.localcloud.apigateway import (
    ApiResource,
    GatewayResponse,
    RestApi,
    gateway_response,
    proxy_response,
    validate_json_body,
)
from ftb.localcloud.event_sources import sqs_event_record, succeeded_records
from ftb.localcloud.provision import EnvOverride
from ftb.localcloud.synth import cache_key
from ftb.localcloud.template import (
    NO_VALUE,
    Resolver,
    StackContext,
    Template,
    TemplateError,
    dependency_order,
)


def template(body: dict[str, Any]) -> Template:
    body.setdefault("Resources", {})
    return Template(path=Path("/nowhere/Stack.template.json"), body=body, stack_name="Stack")


def resolver(body: dict[str, Any], **parameters: str) -> Resolver:
    return Resolver(template(body), StackContext(stack_name="Stack"), parameters)


# -- intrinsic functions -----------------------------------------------------------------------


def test_refs_attributes_joins_and_pseudo_parameters_resolve_to_local_values() -> None:
    # Given a provisioned queue
    r = resolver({"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}})
    r.set_resource("Queue", "http://local/q", {"Arn": "arn:aws:sqs:us-east-1:123456789012:q"})

    # When values refer to it and to pseudo parameters
    value = r.resolve(
        {
            "url": {"Ref": "Queue"},
            "arn": {"Fn::GetAtt": ["Queue", "Arn"]},
            "arn2": {"Fn::GetAtt": "Queue.Arn"},
            "joined": {"Fn::Join": ["/", [{"Ref": "AWS::Region"}, {"Ref": "AWS::AccountId"}]]},
            "suffix": {"Ref": "AWS::URLSuffix"},
            "partition": {"Ref": "AWS::Partition"},
            "stack": {"Ref": "AWS::StackName"},
        }
    )

    # Then each is the local value
    assert value == {
        "url": "http://local/q",
        "arn": "arn:aws:sqs:us-east-1:123456789012:q",
        "arn2": "arn:aws:sqs:us-east-1:123456789012:q",
        "joined": "us-east-1/123456789012",
        "suffix": "amazonaws.com",
        "partition": "aws",
        "stack": "Stack",
    }


def test_sub_in_both_forms_with_attributes_and_escaped_literals() -> None:
    # Given a provisioned function
    r = resolver({"Resources": {"Fn": {"Type": "AWS::Lambda::Function"}}})
    r.set_resource("Fn", "fn-name", {"Arn": "arn:fn"})

    # When Fn::Sub uses a pseudo parameter, a Ref, an attribute, a literal and its own variables
    short = r.resolve({"Fn::Sub": "${AWS::Region}:${Fn}:${Fn.Arn}:${!Literal}"})
    long = r.resolve({"Fn::Sub": ["${Greeting}, ${Fn}", {"Greeting": {"Fn::Join": ["", ["hi"]]}}]})

    # Then each placeholder is replaced, and ${!X} stays a literal ${X}
    assert short == "us-east-1:fn-name:arn:fn:${Literal}"
    assert long == "hi, fn-name"


def test_select_split_conditions_and_no_value() -> None:
    # Given a template with a parameter and conditions
    r = resolver(
        {
            "Parameters": {"Env": {"Type": "String", "Default": "dev"}},
            "Conditions": {
                "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
                "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
            },
            "Mappings": {"Sizes": {"dev": {"Memory": 128}}},
        }
    )

    # When values use Select, Split, If, FindInMap and AWS::NoValue
    value = r.resolve(
        {
            "second": {"Fn::Select": ["1", {"Fn::Split": [",", "a,b,c"]}]},
            "size": {
                "Fn::If": ["IsProd", 1024, {"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "Memory"]}]
            },
            "dropped": {"Fn::If": ["IsDev", {"Ref": "AWS::NoValue"}, "kept"]},
            "list": ["x", {"Ref": "AWS::NoValue"}],
        }
    )

    # Then they resolve as CloudFormation would, NoValue removing the property or item
    assert value == {"second": "b", "size": 128, "list": ["x"]}
    assert r.condition("IsDev") and not r.condition("IsProd")
    assert r.resolve({"Ref": "AWS::NoValue"}) is NO_VALUE


def test_ssm_parameters_get_a_placeholder_and_parameters_can_be_given() -> None:
    # Given an SSM-typed parameter (like the Powertools layer's) and a plain one
    body = {
        "Parameters": {
            "Layer": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/aws/layer"},
            "Rate": {"Type": "String", "Default": "0.3"},
        }
    }

    # When they are resolved, one given on the command line
    r = resolver(body, Rate="0")

    # Then the SSM one is a readable placeholder and the given one wins
    assert r.resolve({"Ref": "Layer"}) == "local-placeholder:/aws/layer"
    assert r.resolve({"Ref": "Rate"}) == "0"
    with pytest.raises(TemplateError, match="unknown parameter"):
        resolver(body, Nope="1")


def test_resources_are_provisioned_after_what_they_reference() -> None:
    # Given resources listed before their dependencies
    t = template(
        {
            "Resources": {
                "Mapping": {
                    "Type": "AWS::Lambda::EventSourceMapping",
                    "Properties": {"FunctionName": {"Ref": "Fn"}, "Src": {"Fn::Sub": "${Q.Arn}"}},
                },
                "Fn": {"Type": "AWS::Lambda::Function", "DependsOn": "Role"},
                "Role": {"Type": "AWS::IAM::Role"},
                "Q": {"Type": "AWS::SQS::Queue"},
            }
        }
    )

    # When they are ordered
    order = [resource.logical_id for resource in dependency_order(t)]

    # Then every resource comes after the ones it needs
    assert order.index("Role") < order.index("Fn") < order.index("Mapping")
    assert order.index("Q") < order.index("Mapping")


def test_a_dependency_cycle_is_a_clear_error() -> None:
    t = template(
        {
            "Resources": {
                "A": {"Type": "X", "Properties": {"P": {"Ref": "B"}}},
                "B": {"Type": "X", "Properties": {"P": {"Ref": "A"}}},
            }
        }
    )
    with pytest.raises(TemplateError, match="circular"):
        dependency_order(t)


# -- API Gateway -------------------------------------------------------------------------------


def api_with(*paths: str) -> RestApi:
    api = RestApi(id="api", name="api", logical_id="Api", root_id="root")
    api.resources["root"] = ApiResource("root", None, "")
    for path in paths:
        parent = "root"
        for part in path.strip("/").split("/"):
            existing = next(
                (
                    r
                    for r in api.resources.values()
                    if r.parent_id == parent and r.path_part == part
                ),
                None,
            )
            if existing is None:
                existing = ApiResource(f"{parent}/{part}", parent, part)
                api.resources[existing.id] = existing
            parent = existing.id
    return api


def test_routing_prefers_literal_segments_then_parameters_then_greedy_paths() -> None:
    # Given literal, parameter and greedy routes side by side
    api = api_with("/tasks/stats", "/tasks/{taskId}", "/files/{proxy+}")

    def route(path: str) -> tuple[str, dict[str, str]] | None:
        found = api.match(path)
        return (api.path_of(found[0].id), found[1]) if found else None

    # Then the most specific route wins, and unknown paths match nothing
    assert route("/tasks/stats") == ("/tasks/stats", {})
    assert route("/tasks/abc") == ("/tasks/{taskId}", {"taskId": "abc"})
    assert route("/files/a/b/c") == ("/files/{proxy+}", {"proxy": "a/b/c"})
    assert route("/tasks/abc/more") is None
    assert route("/") == ("/", {})


@pytest.mark.parametrize(
    ("payload", "valid"),
    [
        ({"statusCode": 201, "body": "{}", "headers": {"A": "1"}}, True),
        (
            {"statusCode": 200, "multiValueHeaders": {"B": ["1", "2"]}, "isBase64Encoded": False},
            True,
        ),
        ({"body": "{}"}, False),  # no statusCode
        ({"statusCode": 200, "cookies": []}, False),  # a payload 2.0 key
        ({"statusCode": "200"}, False),
        ({"statusCode": 200, "body": {"not": "a string"}}, False),
        ("not an object", False),
    ],
)
def test_only_well_formed_lambda_proxy_responses_pass(payload: Any, valid: bool) -> None:
    response = proxy_response(json.dumps(payload).encode())
    assert (response is not None) is valid


def test_base64_proxy_bodies_are_decoded_and_multi_value_headers_kept() -> None:
    response = proxy_response(
        json.dumps(
            {
                "statusCode": 200,
                "body": "aGVsbG8=",
                "isBase64Encoded": True,
                "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            }
        ).encode()
    )
    assert response is not None
    assert response.body == b"hello"
    assert [v for k, v in response.headers if k == "Set-Cookie"] == ["a=1", "b=2"]


def test_gateway_responses_use_the_template_customization_when_there_is_one() -> None:
    # Given an API whose BAD_REQUEST_BODY response is customized, and one that is not
    custom = api_with()
    custom.gateway_responses["BAD_REQUEST_BODY"] = GatewayResponse(
        status=None,
        headers={"X-Why": "validation"},
        templates={"application/json": '{"error": "$context.error.validationErrorString"}'},
    )

    # When a body fails validation
    plain = gateway_response(api_with(), "BAD_REQUEST_BODY", "req-1", validation_error="[bad]")
    customized = gateway_response(custom, "BAD_REQUEST_BODY", "req-1", validation_error="[bad]")

    # Then API Gateway's default answers, or the template's own body and headers
    assert (plain.status, json.loads(plain.body)) == (400, {"message": "Invalid request body"})
    assert (customized.status, json.loads(customized.body)) == (400, {"error": "[bad]"})
    assert ("X-Why", "validation") in customized.headers


def test_models_are_json_schema_draft_4() -> None:
    schema = {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "type": "object",
        "required": ["taskId"],
        "properties": {"taskId": {"type": "string", "pattern": "^[a-z]+$"}},
    }
    assert validate_json_body(schema, b'{"taskId": "abc"}') is None
    assert "taskId" in (validate_json_body(schema, b'{"taskId": "A B"}') or "")
    assert validate_json_body(schema, b"{nope") is not None
    assert validate_json_body(schema, b"") is not None


# -- SQS event source mappings -----------------------------------------------------------------


def result(payload: Any = None, error: str | None = None) -> Any:
    body = b"" if payload is None else json.dumps(payload).encode()
    return SimpleNamespace(status_code=200, payload=body, function_error=error)


MESSAGES = [{"MessageId": "m1"}, {"MessageId": "m2"}, {"MessageId": "m3"}]


@pytest.mark.parametrize(
    ("invocation", "deleted"),
    [
        (result({"batchItemFailures": []}), ["m1", "m2", "m3"]),
        (result(None), ["m1", "m2", "m3"]),
        (result({}), ["m1", "m2", "m3"]),
        (result({"batchItemFailures": [{"itemIdentifier": "m2"}]}), ["m1", "m3"]),
        (result({"batchItemFailures": [{"itemIdentifier": "unknown"}]}), []),
        (result({"batchItemFailures": [{"itemIdentifier": ""}]}), []),
        (result({"batchItemFailures": [{"wrongKey": "m1"}]}), []),
        (result({"errorType": "X"}, error="Unhandled"), []),
    ],
)
def test_partial_batch_responses_follow_lambdas_rules(invocation: Any, deleted: list[str]) -> None:
    done = succeeded_records(MESSAGES, invocation, report_batch_item_failures=True)
    assert [m["MessageId"] for m in done] == deleted


def test_without_partial_batch_responses_a_success_deletes_the_whole_batch() -> None:
    invocation = result({"batchItemFailures": [{"itemIdentifier": "m2"}]})
    assert succeeded_records(MESSAGES, invocation, report_batch_item_failures=False) == MESSAGES


def test_the_sqs_event_record_is_shaped_like_lambdas() -> None:
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "rh",
        "Body": "{}",
        "MD5OfBody": "99914b932bd37a50b983c5e7c90ae93b",
        "Attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1700000000000"},
        "MessageAttributes": {"kind": {"StringValue": "x", "DataType": "String"}},
    }
    record = sqs_event_record(message, "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1")
    assert record == {
        "messageId": "m1",
        "receiptHandle": "rh",
        "body": "{}",
        "attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1700000000000"},
        "messageAttributes": {
            "kind": {
                "stringValue": "x",
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "String",
            }
        },
        "md5OfBody": "99914b932bd37a50b983c5e7c90ae93b",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
        "awsRegion": "us-east-1",
    }


# -- command line and synth cache --------------------------------------------------------------


def test_env_overrides_name_a_function_by_name_logical_id_or_part_of_a_name() -> None:
    override = EnvOverride.parse("process-task:FAILURE_RATE=0")
    assert (override.target, override.key, override.value) == ("process-task", "FAILURE_RATE", "0")
    assert override.matches("Stack-process-task", "FunctionsprocesstaskFunction1")
    assert not override.matches("Stack-submit-task", "FunctionssubmittaskFunction1")
    assert EnvOverride.parse("*:A=b=c").value == "b=c"
    with pytest.raises(ValueError, match="FUNCTION:KEY=VALUE"):
        EnvOverride.parse("FAILURE_RATE=0")


def test_the_synth_cache_key_follows_the_inputs_and_ignores_bytecode(tmp_path: Path) -> None:
    # Given a project with the watched inputs
    for name in ("infra/app.py", "handlers/a.py", "statemachine/w.asl.json", "cdk.json"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("1")
    first = cache_key(tmp_path)

    # When only bytecode appears, the key stays; when a handler changes, it changes
    (tmp_path / "handlers" / "__pycache__").mkdir()
    (tmp_path / "handlers" / "__pycache__" / "a.cpython-311.pyc").write_text("x")
    assert cache_key(tmp_path) == first
    (tmp_path / "handlers" / "a.py").write_text("2")
    assert cache_key(tmp_path) != first


def test_pruning_the_synth_cache_spares_an_assembly_a_running_cloud_holds(tmp_path: Path) -> None:
    # Given four cached assemblies, the oldest held by a running local cloud
    entries = {name: tmp_path / name for name in ("held", "older", "old", "new")}
    for entry in entries.values():
        entry.mkdir()
    hold = synth_module._hold(entries["held"])
    for age, entry in enumerate(entries.values()):
        os.utime(entry, (1000 + age, 1000 + age))
    try:
        # When a new synth prunes the cache around the newest entry
        synth_module._prune(tmp_path, keep=entries["new"])
        # Then the held assembly survives, the unheld older one is gone, the next newest stays
        assert entries["held"].is_dir()
        assert not entries["older"].exists()
        assert entries["old"].is_dir()
    finally:
        hold.close()
    # And once released, it is pruned like any other
    synth_module._prune(tmp_path, keep=entries["new"])
    assert not entries["held"].exists()


def test_a_customized_missing_route_response_keeps_the_403_and_its_error_type() -> None:
    # Given an API whose MISSING_AUTHENTICATION_TOKEN response adds what the API offers
    api = api_with("/tasks")
    api.gateway_responses["MISSING_AUTHENTICATION_TOKEN"] = GatewayResponse(
        status=403,
        headers={},
        templates={
            "application/json": '{"message": "Missing Authentication Token", '
            '"routes": ["POST /v1/tasks"], "requestId": "$context.requestId"}'
        },
    )
    # When a route the API lacks is requested
    response = gateway_response(api, "MISSING_AUTHENTICATION_TOKEN", "req-9")
    # Then the status and error type are API Gateway's, the body the template's
    assert response.status == 403
    assert ("x-amzn-ErrorType", "MissingAuthenticationTokenException") in response.headers
    assert json.loads(response.body) == {
        "message": "Missing Authentication Token",
        "routes": ["POST /v1/tasks"],
        "requestId": "req-9",
    }
