"""The REST API: routes, Lambda proxy integrations, request validation, stage settings."""

from __future__ import annotations

import json

import jsonschema
import pytest
from pydantic import ValidationError

from infra import names
from task_domain.models import TaskSubmission


def _methods(stack):
    """{(HTTP method, path): method properties}, the path rebuilt from the resources."""
    resources = stack.of_type("AWS::ApiGateway::Resource")

    def path_of(ref):
        if "Fn::GetAtt" in ref:  # the root resource
            return ""
        props = resources[ref["Ref"]]["Properties"]
        return f"{path_of(props['ParentId'])}/{props['PathPart']}"

    return {
        (m["Properties"]["HttpMethod"], path_of(m["Properties"]["ResourceId"])): m["Properties"]
        for m in stack.of_type("AWS::ApiGateway::Method").values()
    }


def _integration_function(method):
    uri = method["Integration"]["Uri"]["Fn::Join"][1]
    return next(
        part["Fn::GetAtt"][0] for part in uri if isinstance(part, dict) and "Fn::GetAtt" in part
    )


def test_api_is_regional_and_has_exactly_the_two_routes(stack):
    # Given the REST API
    _, api = stack.only("AWS::ApiGateway::RestApi")
    # Then it is regional and routes exactly POST /tasks and GET /tasks/{taskId}
    assert api["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    assert set(_methods(stack)) == {("POST", "/tasks"), ("GET", "/tasks/{taskId}")}


@pytest.mark.parametrize(
    ("route", "spec"),
    [(("POST", "/tasks"), names.SUBMIT_TASK), (("GET", "/tasks/{taskId}"), names.GET_TASK)],
)
def test_routes_are_lambda_proxy_integrations(stack, route, spec):
    # Given a route  Then it proxies to its function
    method = _methods(stack)[route]
    assert method["Integration"]["Type"] == "AWS_PROXY"
    assert method["Integration"]["IntegrationHttpMethod"] == "POST"
    assert _integration_function(method) == stack.function_id(spec)
    # And API Gateway may invoke that function for this route
    permitted = [
        p["Properties"]
        for p in stack.of_type("AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [stack.function_id(spec), "Arn"]}
    ]
    assert permitted and all(p["Principal"] == "apigateway.amazonaws.com" for p in permitted)


def test_post_leaves_the_body_to_the_function_and_documents_it_with_the_model(stack):
    # Given POST /tasks
    method = _methods(stack)[("POST", "/tasks")]
    validator = stack.props(method["RequestValidatorId"]["Ref"])
    # Then its validator does not judge bodies (submit-task names the field and the reason),
    # and the TaskSubmission model documents the JSON body
    assert validator["ValidateRequestBody"] is False
    assert set(method["RequestModels"]) == {"application/json"}
    model = stack.props(method["RequestModels"]["application/json"]["Ref"])
    assert model["ContentType"] == "application/json"
    assert model["Name"] == "TaskSubmission"


def test_get_requires_the_task_id_path_parameter(stack):
    method = _methods(stack)[("GET", "/tasks/{taskId}")]
    assert method["RequestParameters"] == {"method.request.path.taskId": True}
    assert stack.props(method["RequestValidatorId"]["Ref"])["ValidateRequestParameters"] is True


def _model_schema(stack):
    _, model = stack.only("AWS::ApiGateway::Model")
    return model["Schema"]


def test_model_carries_the_contract_rules(stack):
    # Given the model's JSON schema
    schema = _model_schema(stack)
    # Then it is the handler's contract: two required fields, nothing else
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert schema["type"] == "object"
    assert sorted(schema["required"]) == ["payload", "taskId"]
    assert schema["additionalProperties"] is False
    task_id = schema["properties"]["taskId"]
    assert {key: task_id[key] for key in ("type", "minLength", "maxLength", "pattern")} == {
        "type": "string",
        "minLength": 1,
        "maxLength": 80,
        "pattern": "^[A-Za-z0-9_-]{1,80}$",
    }
    assert schema["properties"]["payload"]["type"] == "object"


BODIES = {
    "minimal": {"taskId": "a", "payload": {}},
    "80 characters": {"taskId": "x" * 80, "payload": {"k": [1, 2]}},
    "every allowed class": {"taskId": "Az09_-", "payload": {"nested": {"a": None}}},
    "81 characters": {"taskId": "x" * 81, "payload": {}},
    "empty id": {"taskId": "", "payload": {}},
    "space": {"taskId": "a b", "payload": {}},
    "slash": {"taskId": "a/b", "payload": {}},
    "dot": {"taskId": "a.b", "payload": {}},
    "colon": {"taskId": "a:b", "payload": {}},
    "non-ascii letter": {"taskId": "tâche", "payload": {}},
    "numeric id": {"taskId": 123, "payload": {}},
    "null id": {"taskId": None, "payload": {}},
    "list payload": {"taskId": "a", "payload": [1]},
    "string payload": {"taskId": "a", "payload": "x"},
    "null payload": {"taskId": "a", "payload": None},
    "number payload": {"taskId": "a", "payload": 1},
    "missing id": {"payload": {}},
    "missing payload": {"taskId": "a"},
    "extra field": {"taskId": "a", "payload": {}, "priority": 1},
    "array body": [{"taskId": "a", "payload": {}}],
    "string body": "taskId=a",
}


def _handler_accepts(body) -> bool:
    try:
        TaskSubmission.model_validate(body)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("case", sorted(BODIES))
def test_model_agrees_with_the_handler_model(stack, case):
    # Given a request body
    body = BODIES[case]
    # When API Gateway's model (JSON schema draft 4) and the handler's pydantic model judge it
    gateway_accepts = jsonschema.Draft4Validator(_model_schema(stack)).is_valid(body)
    # Then they agree: the gateway never rejects what the handler accepts, nor the reverse
    assert gateway_accepts == _handler_accepts(body)


def test_no_gateway_response_hides_the_functions_reason_for_a_bad_body(stack):
    # Given the gateway responses  Then none rewrites a body rejection: the function's 400 is it
    types = [
        r["Properties"]["ResponseType"]
        for r in stack.of_type("AWS::ApiGateway::GatewayResponse").values()
    ]
    assert "BAD_REQUEST_BODY" not in types and "DEFAULT_4XX" not in types


def test_an_undefined_route_keeps_the_403_and_says_what_the_api_offers(stack):
    # Given the gateway response for a path or method the API does not define
    [response] = [
        r["Properties"]
        for r in stack.of_type("AWS::ApiGateway::GatewayResponse").values()
        if r["Properties"]["ResponseType"] == "MISSING_AUTHENTICATION_TOKEN"
    ]
    # Then it keeps API Gateway's 403 and message, and its JSON lists the operations of
    # api/openapi.yaml under the stage
    assert response["StatusCode"] == "403"
    body = json.loads(
        response["ResponseTemplates"]["application/json"].replace("$context.requestId", "abc")
    )
    assert body["message"] == "Missing Authentication Token"
    assert body["routes"] == ["POST /v1/tasks", "GET /v1/tasks/{taskId}"]
    assert "This API offers: POST /v1/tasks, GET /v1/tasks/{taskId}." in body["detail"]


def test_stage_throttling_tracing_and_logging(stack):
    # Given the stage
    _, stage = stack.only("AWS::ApiGateway::Stage")
    # Then it is throttled, traced, and logs errors (no request/response bodies)
    assert stage["StageName"] == names.API_STAGE_NAME
    assert stage["TracingEnabled"] is True
    [settings] = stage["MethodSettings"]
    assert settings["HttpMethod"] == "*" and settings["ResourcePath"] == "/*"
    assert settings["ThrottlingRateLimit"] == names.API_THROTTLE_RATE
    assert settings["ThrottlingBurstLimit"] == names.API_THROTTLE_BURST
    assert settings["LoggingLevel"] == "ERROR"
    assert settings["DataTraceEnabled"] is False
    assert settings["MetricsEnabled"] is True


def test_stage_writes_json_access_logs_to_a_log_group_with_retention(stack):
    # Given the stage's access log settings
    _, stage = stack.only("AWS::ApiGateway::Stage")
    access = stage["AccessLogSetting"]
    # (the ARN of the log group itself, without the `:*` suffix)
    arn_parts = access["DestinationArn"]["Fn::Join"][1]
    assert arn_parts[-2:][0] == ":log-group:"
    log_group = stack.props(arn_parts[-1]["Ref"])
    # Then each line is one JSON object with the request id, status and validation error
    line = json.loads(access["Format"])
    assert {"requestId", "status", "httpMethod", "resourcePath", "validationError"} <= set(line)
    assert line["requestId"] == "$context.requestId"
    assert log_group["RetentionInDays"] == 30


def test_api_gateway_may_write_logs_through_the_account_role(stack):
    # Given the account-level API Gateway settings  Then they name the CloudWatch role
    _, account = stack.only("AWS::ApiGateway::Account")
    role = stack.props(account["CloudWatchRoleArn"]["Fn::GetAtt"][0])
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "apigateway.amazonaws.com"
    }
