"""The Step Functions reads never hand a call back to moto when they fail: AWS's 500 shape,
the cause in the cloud's log; moto's not-found errors are answered in their own shape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.datastructures import Headers
from werkzeug.test import EnvironBuilder

from ftb.localcloud.endpoint.calls import AwsCall, identify
from ftb.localcloud.stepfunctions_reads import StepFunctionsReads, handler

SIGNED = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/states/aws4_request, X=Y"
EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:machine:missing"
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:missing"


def states_call(operation: str, body: dict[str, Any]) -> AwsCall:
    environ = EnvironBuilder(
        method="POST",
        path="/",
        data=json.dumps(body).encode(),
        headers=Headers(
            {
                "X-Amz-Target": f"AWSStepFunctions.{operation}",
                "Authorization": SIGNED,
                "Content-Type": "application/x-amz-json-1.0",
            }
        ),
    ).get_environ()
    return identify(environ)


def answer(call: AwsCall) -> tuple[int, dict[str, Any], Any]:
    response = StepFunctionsReads().handle(call)
    assert response is not None, "the handler handed the call back to moto"
    return response.status_code, json.loads(response.get_data()), response.headers


@pytest.fixture
def engine() -> Iterator[None]:
    """moto's Step Functions with its engine on, as the endpoint runs it."""
    from moto import mock_aws

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield


def test_a_bug_in_a_read_is_an_internal_failure_with_the_cause_logged(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a read that fails in our own layer
    def broken(request: dict[str, Any]) -> dict[str, Any]:
        raise KeyError("exec_worker")

    monkeypatch.setitem(handler._OPERATIONS, "DescribeExecution", broken)
    # When a client calls it
    status, body, headers = answer(states_call("DescribeExecution", {"executionArn": EXECUTION}))
    # Then it gets AWS's InternalFailure (500), not moto's answer, and the log has the traceback
    assert status == 500
    assert body["__type"] == "InternalFailure" and headers["x-amzn-ErrorType"] == "InternalFailure"
    assert "unknown error" in body["message"]
    logged = capsys.readouterr().err
    assert "internal failure answering states:DescribeExecution" in logged
    assert "Traceback" in logged and "KeyError: 'exec_worker'" in logged


@pytest.mark.parametrize(
    ("operation", "body", "code"),
    [
        ("DescribeExecution", {"executionArn": EXECUTION}, "ExecutionDoesNotExist"),
        ("GetExecutionHistory", {"executionArn": EXECUTION}, "ExecutionDoesNotExist"),
        ("ListExecutions", {"stateMachineArn": MACHINE}, "StateMachineDoesNotExist"),
    ],
)
def test_a_missing_resource_is_answered_with_motos_code_by_the_handler(
    engine: None, operation: str, body: dict[str, Any], code: str
) -> None:
    # Given an engine without that execution or state machine, when a read asks for it
    status, answered, _ = answer(states_call(operation, body))
    # Then the handler answers AWS's error code (as moto raises it), a client error
    assert status == 400
    assert answered["__type"] == code
