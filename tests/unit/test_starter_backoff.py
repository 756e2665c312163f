"""The starter's backoff and the classification of AWS failures."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from start_execution import backoff_seconds
from task_domain.aws_errors import error_code, is_transient


@pytest.mark.parametrize(
    ("receive_count", "expected"),
    [(0, 5), (1, 5), (2, 10), (3, 20), (4, 40), (6, 160), (7, 300), (50, 300), (10**9, 300)],
)
def test_backoff_doubles_per_receive_up_to_the_cap(receive_count, expected):
    assert backoff_seconds(receive_count, base=5, cap=300) == expected


def _client_error(code: str, status: int = 400) -> ClientError:
    response: Any = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "StartExecution")


@pytest.mark.parametrize(
    "error",
    [
        _client_error("ThrottlingException"),
        _client_error("ProvisionedThroughputExceededException"),
        _client_error("ServiceUnavailable", 503),
        _client_error("SomethingNew", 500),
        EndpointConnectionError(endpoint_url="https://states.us-east-1.amazonaws.com"),
        ReadTimeoutError(endpoint_url="https://states.us-east-1.amazonaws.com"),
    ],
)
def test_transient_failures(error):
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        _client_error("ExecutionAlreadyExists"),
        _client_error("AccessDeniedException"),
        _client_error("ConditionalCheckFailedException"),
        ValueError("not an AWS error"),
    ],
)
def test_definite_failures(error):
    assert not is_transient(error)


def test_error_code():
    assert error_code(_client_error("ThrottlingException")) == "ThrottlingException"
    assert error_code(ValueError()) is None
