"""The refusal rule: what is refused, what passes to a handler or to moto, in which shape."""

from __future__ import annotations

import json

import pytest
from werkzeug.test import EnvironBuilder

from ftb.localcloud.endpoint.calls import AwsCall, identify
from ftb.localcloud.endpoint.refusals import Refusals, rest_operation

SIGNED = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/{service}/aws4_request, X=Y"
TARGETS = {"states": "AWSStepFunctions", "logs": "Logs_20140328", "dynamodb": "DynamoDB_20120810"}


def json_call(service: str, operation: str) -> AwsCall:
    environ = EnvironBuilder(
        method="POST",
        path="/",
        data=b"{}",
        headers={
            "X-Amz-Target": f"{TARGETS[service]}.{operation}",
            "Authorization": SIGNED.format(service=service),
            "Content-Type": "application/x-amz-json-1.0",
        },
    ).get_environ()
    return identify(environ)


def query_call(operation: str) -> AwsCall:
    environ = EnvironBuilder(
        method="POST",
        path="/",
        data=f"Action={operation}&Version=2010-05-15".encode(),
        headers={"Authorization": SIGNED.format(service="cloudformation")},
        content_type="application/x-www-form-urlencoded",
    ).get_environ()
    return identify(environ)


def rest_call(method: str, path: str) -> AwsCall:
    environ = EnvironBuilder(
        method=method, path=path, headers={"Authorization": SIGNED.format(service="lambda")}
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


@pytest.mark.parametrize("operation", ["StopQuery", "GetLogRecord", "StartQuery"])
def test_operations_other_branches_build_are_never_refused(operation: str) -> None:
    # Given the Logs Insights operations another branch implements (moto lacks some)
    # When one is called with no handler registered / Then it is not refused
    assert Refusals(nothing_claimed).handle(json_call("logs", operation)) is None


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
