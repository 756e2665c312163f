"""FilterLogEvents patterns moto would evaluate as "match everything" are refused."""

from __future__ import annotations

import json

import pytest
from werkzeug.datastructures import Headers
from werkzeug.test import EnvironBuilder

from ftb.localcloud.endpoint.calls import AwsCall, identify
from ftb.localcloud.logs_filter_patterns import FilterPatternGuard

SIGNED = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/logs/aws4_request, X=Y"


def filter_call(body: dict[str, object], operation: str = "FilterLogEvents") -> AwsCall:
    environ = EnvironBuilder(
        method="POST",
        path="/",
        data=json.dumps(body).encode(),
        headers=Headers(
            {
                "X-Amz-Target": f"Logs_20140328.{operation}",
                "Authorization": SIGNED,
                "Content-Type": "application/x-amz-json-1.1",
            }
        ),
    ).get_environ()
    return identify(environ)


@pytest.mark.parametrize("pattern", ["", "ERROR", "ERROR Task_1", '"task-123"', "  task123 "])
def test_patterns_moto_evaluates_pass_to_moto(pattern: str) -> None:
    # Given a pattern moto matches as AWS does / When FilterLogEvents is called
    call = filter_call({"logGroupName": "/g", "filterPattern": pattern})
    # Then the guard leaves it to moto
    assert FilterPatternGuard().handle(call) is None


@pytest.mark.parametrize(
    "pattern",
    [
        '{ $.taskId = "task123" }',
        "[ip, user, status=500]",
        "?ERROR ?WARN",
        "ERROR -Exception",
        '"a" "b"',
        "%task[0-9]+%",
        "task-123",
    ],
)
def test_patterns_moto_would_match_everything_with_are_refused(pattern: str) -> None:
    # Given a pattern moto does not evaluate (it would return every event)
    call = filter_call({"logGroupName": "/g", "filterPattern": pattern})
    # When FilterLogEvents is called
    response = FilterPatternGuard().handle(call)
    # Then 400 InvalidParameterException that names the pattern
    assert response is not None and response.status_code == 400
    document = json.loads(response.get_data())
    assert document["__type"] == "InvalidParameterException"
    assert pattern in document["message"]


def test_a_stream_name_prefix_moto_ignores_is_refused() -> None:
    # Given logStreamNamePrefix, which moto ignores (it would search every stream)
    call = filter_call({"logGroupName": "/g", "logStreamNamePrefix": "2026/"})
    # When FilterLogEvents is called / Then it is refused
    response = FilterPatternGuard().handle(call)
    assert response is not None and response.status_code == 400


def test_other_operations_pass() -> None:
    # Given another Logs operation with a filterPattern parameter / Then the guard ignores it
    call = filter_call({"filterPattern": "{ $.a = 1 }"}, operation="PutMetricFilter")
    assert FilterPatternGuard().handle(call) is None
