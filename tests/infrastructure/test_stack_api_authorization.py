"""Who may invoke what, in each authorization mode (context apiAuth), from the templates.

- iam (the default, the session's `stack`): every method AWS_IAM; one managed policy grants
  execute-api:Invoke on exactly POST /tasks and GET /tasks/* of this API's stage; cdk-nag's
  APIG4 (authorization) is met, not acknowledged.
- apiKey: every method requires a key; one key, its value in no template or output; a usage
  plan with a throttle and a daily quota on this stage.
- none: open methods, only by name, and the synthesis warns.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from infra import names
from infra.app import build_app
from infra.constructs.api import openapi_document
from tests.infrastructure.conftest import TEST_CONTEXT, SynthesizedStack
from tests.infrastructure.test_security import render

ROUTES = {("POST", "/tasks"), ("GET", "/tasks/{taskId}")}


def synthesize(tmp_path_factory: pytest.TempPathFactory, mode: str) -> SynthesizedStack:
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "1")
    outdir = tmp_path_factory.mktemp(f"cdk.out.{mode}")
    context = {**TEST_CONTEXT, names.CTX_API_AUTH: mode}
    assembly = build_app(context, outdir=str(outdir)).synth()
    template = json.loads((outdir / f"{names.STACK_ID}.template.json").read_text())
    return SynthesizedStack(outdir, names.DEFAULT_STACK_NAME, template, assembly, context)


@pytest.fixture(scope="module")
def api_key_stack(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedStack:
    return synthesize(tmp_path_factory, names.API_AUTH_API_KEY)


@pytest.fixture(scope="module")
def open_stack(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedStack:
    return synthesize(tmp_path_factory, names.API_AUTH_NONE)


def methods(stack: SynthesizedStack) -> dict[tuple[str, str], dict[str, Any]]:
    """(method, path) -> the method's properties."""
    paths: dict[str, str] = {}
    resources = stack.of_type("AWS::ApiGateway::Resource")

    def path_of(ref: Any) -> str:
        if isinstance(ref, dict) and "Ref" in ref and ref["Ref"] in resources:
            props = resources[ref["Ref"]]["Properties"]
            return path_of(props["ParentId"]) + "/" + props["PathPart"]
        return ""

    for logical_id in resources:
        paths[logical_id] = path_of({"Ref": logical_id})
    return {
        (m["Properties"]["HttpMethod"], path_of(m["Properties"]["ResourceId"]) or "/"): m[
            "Properties"
        ]
        for m in stack.of_type("AWS::ApiGateway::Method").values()
    }


def suppressed_rules(stack: SynthesizedStack) -> set[str]:
    report = stack.validation_report
    [plugin] = [r for r in report["pluginReports"] if r["pluginName"] == "AwsSolutions"]
    assert plugin["violations"] == []  # nothing unacknowledged, in every mode
    return {finding["ruleName"] for finding in plugin["suppressedViolations"]}


# -- iam (default) ---------------------------------------------------------------------------


def test_by_default_every_method_requires_a_sigv4_signature(stack):
    found = methods(stack)
    assert set(found) == ROUTES
    for route, props in found.items():
        assert props["AuthorizationType"] == "AWS_IAM", route
        assert not props.get("ApiKeyRequired"), route
    assert stack.template["Outputs"][names.OUT_API_AUTHORIZATION]["Value"] == names.API_AUTH_IAM


def test_the_invoke_policy_grants_exactly_the_two_routes_of_this_stage(stack):
    # Given the one managed policy of the stack
    policy_id, props = stack.only("AWS::IAM::ManagedPolicy")
    [statement] = props["PolicyDocument"]["Statement"]
    api_id, _ = stack.only("AWS::ApiGateway::RestApi")
    stage_id, _ = stack.only("AWS::ApiGateway::Stage")
    # Then it allows execute-api:Invoke, nothing else, on POST /tasks and GET /tasks/*
    assert statement["Effect"] == "Allow" and statement["Action"] == "execute-api:Invoke"
    prefix = (
        "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
        f"${{{api_id}}}/${{{stage_id}}}/"
    )
    assert sorted(render(r) for r in statement["Resource"]) == [
        f"{prefix}GET/tasks/*",
        f"{prefix}POST/tasks",
    ]
    # And it is no role's yet: clients attach it (the stack output names it)
    assert not props.get("Roles") and not props.get("Users") and not props.get("Groups")
    assert stack.template["Outputs"][names.OUT_API_INVOKE_POLICY_ARN]["Value"] == {"Ref": policy_id}
    # And there is no API key or usage plan
    assert stack.of_type("AWS::ApiGateway::ApiKey") == {}
    assert stack.of_type("AWS::ApiGateway::UsagePlan") == {}


def test_cdk_nags_authorization_rule_is_met_not_acknowledged_by_default(stack):
    # APIG4 (the API implements authorization) passes on its own; COG4 (a Cognito user pool
    # authorizer) is acknowledged: IAM takes its place for AWS principals
    suppressed = suppressed_rules(stack)
    assert "AwsSolutions-APIG4" not in suppressed
    assert "AwsSolutions-COG4" in suppressed


# -- apiKey ----------------------------------------------------------------------------------


def test_api_key_mode_requires_a_key_on_every_method(api_key_stack):
    for route, props in methods(api_key_stack).items():
        assert props["ApiKeyRequired"] is True, route
        assert props["AuthorizationType"] == "NONE", route
    outputs = api_key_stack.template["Outputs"]
    assert outputs[names.OUT_API_AUTHORIZATION]["Value"] == names.API_AUTH_API_KEY
    assert api_key_stack.of_type("AWS::IAM::ManagedPolicy") == {}


def test_the_keys_value_is_in_no_template_and_no_output(api_key_stack):
    key_id, key = api_key_stack.only("AWS::ApiGateway::ApiKey")
    # API Gateway generates the value: the template gives none
    assert "Value" not in key
    assert key["Enabled"] is True
    outputs = api_key_stack.template["Outputs"]
    assert outputs[names.OUT_API_KEY_ID]["Value"] == {"Ref": key_id}
    assert not any(
        "Fn::GetAtt" in json.dumps(o["Value"]) and key_id in json.dumps(o["Value"])
        for o in outputs.values()
    )


def test_the_usage_plan_throttles_and_limits_the_key_on_this_stage(api_key_stack):
    plan_id, plan = api_key_stack.only("AWS::ApiGateway::UsagePlan")
    assert plan["Throttle"] == {
        "RateLimit": names.API_KEY_RATE,
        "BurstLimit": names.API_KEY_BURST,
    }
    assert names.API_KEY_RATE <= names.API_THROTTLE_RATE
    assert plan["Quota"] == {"Limit": names.API_KEY_QUOTA_PER_DAY, "Period": "DAY"}
    api_id, _ = api_key_stack.only("AWS::ApiGateway::RestApi")
    stage_id, _ = api_key_stack.only("AWS::ApiGateway::Stage")
    [stage] = plan["ApiStages"]
    assert (stage["ApiId"], stage["Stage"]) == ({"Ref": api_id}, {"Ref": stage_id})
    assert not stage.get("Throttle")  # no per-method override of the plan's throttle
    key_id, _ = api_key_stack.only("AWS::ApiGateway::ApiKey")
    _, link = api_key_stack.only("AWS::ApiGateway::UsagePlanKey")
    assert link == {"KeyId": {"Ref": key_id}, "KeyType": "API_KEY", "UsagePlanId": {"Ref": plan_id}}


def test_api_key_mode_acknowledges_authorization_by_name(api_key_stack):
    assert {"AwsSolutions-APIG4", "AwsSolutions-COG4"} <= suppressed_rules(api_key_stack)


# -- none ------------------------------------------------------------------------------------


def test_the_open_api_is_open_and_the_synthesis_warns(open_stack):
    for route, props in methods(open_stack).items():
        assert props["AuthorizationType"] == "NONE", route
        assert not props.get("ApiKeyRequired"), route
    assert open_stack.of_type("AWS::ApiGateway::ApiKey") == {}
    assert open_stack.of_type("AWS::IAM::ManagedPolicy") == {}
    artifact = open_stack.assembly.get_stack_by_name(open_stack.stack_name)
    warnings = [str(m.entry.data) for m in artifact.messages if m.level.value.lower() == "warning"]
    assert any("apiAuth=none" in text and "anyone" in text for text in warnings), warnings


def test_an_unknown_mode_fails_the_synth_naming_the_choices():
    with pytest.raises(ValueError, match="iam, apiKey, none"):
        build_app({names.CTX_API_AUTH: "open"}, outdir="/tmp/ftb-never-written")


def test_the_openapi_description_names_both_ways_in():
    # The API's one description documents the two schemes the modes use, and the 403
    document = openapi_document()
    schemes = document["components"]["securitySchemes"]
    assert schemes["sigv4"]["x-amazon-apigateway-authtype"] == "awsSigv4"
    assert (schemes["api_key"]["in"], schemes["api_key"]["name"]) == (
        "header",
        names.API_KEY_HEADER,
    )
    assert document["security"] == [{"sigv4": []}, {"api_key": []}]
    for path in document["paths"].values():
        for operation in path.values():
            assert "403" in operation["responses"], operation["operationId"]
