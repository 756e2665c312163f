"""A handler of the endpoint that fails answers AWS's InternalFailure (500) in the call's
protocol, with the traceback in the cloud's log; the call never goes on to moto."""

from __future__ import annotations

import json
from typing import Any

import pytest
from werkzeug.datastructures import Headers
from werkzeug.test import EnvironBuilder

from ftb.localcloud.endpoint import AwsEndpoint
from ftb.localcloud.endpoint.calls import AwsCall

SIGNED = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/{service}/aws4_request, X=Y"


class Broken:
    operations = frozenset({"ListQueues", "DescribeExecution"})

    def handle(self, call: AwsCall) -> Any:
        raise IndexError("a bug of ours")


def _call(endpoint: AwsEndpoint, environ: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
    started: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> None:
        started.update(status=status, headers=dict(headers))

    body = b"".join(endpoint._wsgi(environ, start_response))
    return started["status"], started["headers"], body


@pytest.fixture
def endpoint() -> AwsEndpoint:
    served = AwsEndpoint(None, port=0)  # not started: moto must not be reached at all
    served.register("states", Broken())
    served.register("sqs", Broken())
    return served


def test_a_json_protocol_handler_failure_is_internal_failure(
    endpoint: AwsEndpoint, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a Step Functions handler that raises, when a client calls its operation
    environ = EnvironBuilder(
        method="POST",
        path="/",
        data=b"{}",
        headers=Headers(
            {
                "X-Amz-Target": "AWSStepFunctions.DescribeExecution",
                "Authorization": SIGNED.format(service="states"),
                "Content-Type": "application/x-amz-json-1.0",
            }
        ),
    ).get_environ()
    status, headers, body = _call(endpoint, environ)
    # Then the answer is AWS's JSON 500, and the log has the cause
    assert status.startswith("500")
    assert json.loads(body)["__type"] == "InternalFailure"
    assert headers["x-amzn-ErrorType"] == "InternalFailure"
    logged = capsys.readouterr().err
    assert "IndexError: a bug of ours" in logged and "Traceback" in logged


def test_a_query_protocol_handler_failure_is_internal_failure(endpoint: AwsEndpoint) -> None:
    # Given an SQS handler that raises, when a query-protocol client calls it
    environ = EnvironBuilder(
        method="POST",
        path="/",
        data=b"Action=ListQueues&Version=2012-11-05",
        headers=Headers(
            {
                "Authorization": SIGNED.format(service="sqs"),
                "Content-Type": "application/x-www-form-urlencoded",
            }
        ),
    ).get_environ()
    status, _, body = _call(endpoint, environ)
    # Then the answer is the query protocol's 500 error document, code InternalFailure
    assert status.startswith("500")
    assert b"<Code>InternalFailure</Code>" in body
    assert b"<Type>Receiver</Type>" in body
