"""The refusal rule: what is refused, what passes to a handler or to moto, in which shape."""

from __future__ import annotations

import json
from typing import Any

import pytest
from werkzeug.datastructures import Headers
from werkzeug.test import EnvironBuilder

from ftb.localcloud.cloudformation import CloudFormationApi
from ftb.localcloud.endpoint.calls import AwsCall, identify
from ftb.localcloud.endpoint.refusals import Refusals, rest_operation
from ftb.localcloud.lambda_api.control_api import LambdaControlApi
from ftb.localcloud.lambda_api.event_source_mappings import EventSourceMappingApi
from ftb.localcloud.lambda_api.function_api import FunctionSubresourceApi
from ftb.localcloud.logs_insights.service import LogsInsightsApi
from ftb.localcloud.operation_coverage import HANDLERS, declared, model_operations

SIGNED = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/{service}/aws4_request, X=Y"
TARGETS = {"states": "AWSStepFunctions", "logs": "Logs_20140328", "dynamodb": "DynamoDB_20120810"}


def json_call(service: str, operation: str) -> AwsCall:
    environ = EnvironBuilder(
        method="POST",
        path="/",
        data=b"{}",
        headers=Headers(
            {
                "X-Amz-Target": f"{TARGETS[service]}.{operation}",
                "Authorization": SIGNED.format(service=service),
                "Content-Type": "application/x-amz-json-1.0",
            }
        ),
    ).get_environ()
    return identify(environ)


def query_call(operation: str) -> AwsCall:
    environ = EnvironBuilder(
        method="POST",
        path="/",
        data=f"Action={operation}&Version=2010-05-15".encode(),
        headers=Headers({"Authorization": SIGNED.format(service="cloudformation")}),
        content_type="application/x-www-form-urlencoded",
    ).get_environ()
    return identify(environ)


def rest_call(method: str, path: str) -> AwsCall:
    environ = EnvironBuilder(
        method=method,
        path=path,
        headers=Headers({"Authorization": SIGNED.format(service="lambda")}),
    ).get_environ()
    return identify(environ)


def nothing_claimed(service: str) -> set[str]:
    return set()


def test_an_operation_moto_lacks_is_refused_as_unknown_operation() -> None:
    # Given no handler claims RedriveExecution and moto has no method for it
    # When it is called / Then 400 UnknownOperationException naming it (JSON protocol)
    response = Refusals(nothing_claimed).handle(json_call("states", "RedriveExecution"))
    assert response is not None and response.status_code == 400
    assert response.headers["x-amzn-ErrorType"] == "UnknownOperationException"
    assert "RedriveExecution" in json.loads(response.get_data())["message"]


def test_an_operation_moto_implements_passes() -> None:
    # Given moto implements StartExecution / When it is called / Then it is not refused
    assert Refusals(nothing_claimed).handle(json_call("states", "StartExecution")) is None


def test_an_operation_a_handler_declares_passes() -> None:
    # Given a handler declares an operation moto does not implement
    def claims(service: str) -> set[str]:
        return {"RedriveExecution"} if service == "states" else set()

    # When it is called / Then the refusals leave it to the handler
    assert Refusals(claims).handle(json_call("states", "RedriveExecution")) is None


@pytest.mark.parametrize("operation", ["StopQuery", "GetLogRecord"])
def test_an_operation_only_a_handler_answers_is_refused_without_it(operation: str) -> None:
    # Given Logs Insights operations moto lacks, and no handler registered for them
    # When one is called / Then it is refused: nothing passes that nobody declares
    response = Refusals(nothing_claimed).handle(json_call("logs", operation))
    assert response is not None and response.status_code == 400
    # And with the Logs Insights handler's declaration it passes to that handler
    assert (
        Refusals(lambda service: LogsInsightsApi.operations).handle(json_call("logs", operation))
        is None
    )


@pytest.mark.parametrize("service", sorted(HANDLERS))
def test_every_declared_operation_is_an_operation_of_the_service(service: str) -> None:
    # Given the operations the handlers of a service declare
    # When they are compared with botocore's model of the service
    # Then each is an operation name a client sends (a misspelt claim would be refused)
    assert declared(service) <= set(model_operations(service))


@pytest.mark.parametrize(
    ("handler", "method", "path", "query"),
    [
        (LambdaControlApi, "GET", "/2015-03-31/functions/", []),
        (LambdaControlApi, "GET", "/2015-03-31/functions/f", []),
        (LambdaControlApi, "PUT", "/2015-03-31/functions/f/configuration", []),
        (EventSourceMappingApi, "GET", "/2015-03-31/event-source-mappings/", []),
        (EventSourceMappingApi, "PUT", "/2015-03-31/event-source-mappings/u", []),
        (FunctionSubresourceApi, "GET", "/2017-03-31/tags/arn:aws:lambda:r:1:function:f", []),
        (
            FunctionSubresourceApi,
            "GET",
            "/2019-09-30/functions/f/provisioned-concurrency",
            ["List"],
        ),
        (FunctionSubresourceApi, "GET", "/2019-09-25/functions/f/event-invoke-config/list", []),
        (FunctionSubresourceApi, "GET", "/2021-10-31/functions/f/url", []),
    ],
)
def test_a_lambda_rest_call_a_handler_answers_is_named_as_it_declares(
    handler: Any, method: str, path: str, query: list[str]
) -> None:
    # Given a REST request a Lambda handler routes / When botocore's model names it
    # Then the name is among the handler's declared operations (so it is never refused)
    assert rest_operation("lambda", method, path, query) in handler.operations


def test_a_rest_call_on_a_claimed_path_but_another_operation_is_not_claimed() -> None:
    # Given GetProvisionedConcurrencyConfig: the path of ListProvisionedConcurrencyConfigs,
    # told apart by its Qualifier / When it is named
    name = rest_operation(
        "lambda", "GET", "/2019-09-30/functions/f/provisioned-concurrency", ["Qualifier"]
    )
    # Then it is not the operation the handler declares, so the refusals decide
    assert name == "GetProvisionedConcurrencyConfig"
    assert name not in FunctionSubresourceApi.operations


def test_cloudformation_is_never_left_to_moto() -> None:
    # Given CreateStack, which moto implements but which knows nothing of the local stack
    # When it is called / Then it is refused (InvalidAction)
    response = Refusals(nothing_claimed).handle(query_call("CreateStack"))
    assert response is not None and b"<Code>InvalidAction</Code>" in response.get_data()
    # And the stack's reads pass to the CloudFormation handler that declares them
    claims = {"cloudformation": CloudFormationApi.operations}
    assert Refusals(lambda s: claims.get(s, set())).handle(query_call("DescribeStacks")) is None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/2015-03-31/event-source-mappings/"),  # a mapping that would never poll
        ("POST", "/2017-03-31/tags/arn:aws:lambda:us-east-1:123456789012:function:f"),
        ("POST", "/2015-03-31/functions/f/policy"),  # AddPermission
        ("GET", "/2018-10-31/layers"),  # ListLayers: [] while the template has layers
    ],
)
def test_lambda_operations_only_moto_implements_are_refused(method: str, path: str) -> None:
    # Given Lambda operations moto implements over its own, empty backend (it holds none of
    # the runtime's functions) / When one is called
    response = Refusals(nothing_claimed).handle(rest_call(method, path))
    # Then it is refused (404 UnknownOperationException), not "Function not found"
    assert response is not None and response.status_code == 404
    assert response.headers["x-amzn-ErrorType"] == "UnknownOperationException"


def test_an_operation_moto_answers_wrongly_is_refused() -> None:
    # Given DynamoDB's DescribeLimits, which moto answers with made-up quotas
    # When it is called / Then it is refused
    response = Refusals(nothing_claimed).handle(json_call("dynamodb", "DescribeLimits"))
    assert response is not None and response.status_code == 400


def test_a_query_protocol_operation_is_refused_as_invalid_action() -> None:
    # Given a CloudFormation operation moto lacks / When it is called
    response = Refusals(nothing_claimed).handle(query_call("ListTypeRegistrations"))
    # Then 400 InvalidAction in the query protocol's XML
    assert response is not None and response.status_code == 400
    assert b"<Code>InvalidAction</Code>" in response.get_data()


def test_a_lambda_rest_operation_is_named_from_botocore_and_refused_with_404() -> None:
    # Given Lambda's GetAccountSettings path / When it is called
    response = Refusals(nothing_claimed).handle(rest_call("GET", "/2016-08-19/account-settings/"))
    # Then 404 UnknownOperationException naming the operation
    assert response is not None and response.status_code == 404
    assert response.headers["x-amzn-ErrorType"] == "UnknownOperationException"
    assert "GetAccountSettings" in json.loads(response.get_data())["message"]


@pytest.mark.parametrize(
    ("method", "path", "query", "operation"),
    [
        ("GET", "/2015-03-31/functions/f", [], "GetFunction"),
        ("GET", "/2015-03-31/functions/f/configuration", [], "GetFunctionConfiguration"),
        ("POST", "/2015-03-31/functions/f/invocations", [], "Invoke"),
        ("GET", "/2015-03-31/event-source-mappings/", [], "ListEventSourceMappings"),
        (
            "GET",
            "/2019-09-30/functions/f/provisioned-concurrency",
            ["List"],
            "ListProvisionedConcurrencyConfigs",
        ),
        (
            "GET",
            "/2019-09-30/functions/f/provisioned-concurrency",
            ["Qualifier"],
            "GetProvisionedConcurrencyConfig",
        ),
    ],
)
def test_rest_requests_are_named_by_method_path_and_query(
    method: str, path: str, query: list[str], operation: str
) -> None:
    # Given a Lambda request / When it is named / Then the operation botocore would send
    assert rest_operation("lambda", method, path, query) == operation


def test_a_lambda_path_of_no_operation_is_refused() -> None:
    # Given a path no Lambda operation has / When it is called / Then 404 refusal
    response = Refusals(nothing_claimed).handle(rest_call("GET", "/2015-03-31/nothing-here"))
    assert response is not None and response.status_code == 404


def test_calls_of_other_services_pass() -> None:
    # Given a call to a service the local cloud does not emulate (unsigned, no target)
    call = identify(EnvironBuilder(method="GET", path="/moto-api/").get_environ())
    # When the refusals see it / Then they leave it to moto
    assert Refusals(nothing_claimed).handle(call) is None


def test_a_cors_preflight_is_never_refused() -> None:
    # Given a browser console's preflight to a Lambda path (unsigned OPTIONS)
    call = identify(EnvironBuilder(method="OPTIONS", path="/2015-03-31/functions/").get_environ())
    # When the refusals see it / Then moto answers it (with its CORS headers)
    assert Refusals(nothing_claimed).handle(call) is None
