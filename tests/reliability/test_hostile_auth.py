"""Unauthenticated and wrongly signed requests against the running local API (AWS_IAM).

Each case sends the same requests (POST /tasks with a valid body, GET /tasks/{taskId}) with
one thing wrong about who sends them; each must be refused exactly as API Gateway refuses it
(403, its x-amzn-ErrorType, its message), never a 5xx, and none may reach a function: the
functions' invocations (START lines in their log groups) are counted before and after, and
one correctly signed request per route at the end must be the only new ones. The last test
sends every case again between the two counts and prints the refused requests per case.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest

from tests.support.api_auth import ApiAccess, access_for
from tests.support.local_cloud import LocalCloudProcess, wait_for
from tests.support.raw_http import Answer, send

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(300)]

REQUESTS_PER_ROUTE = 5
MISSING = "Missing Authentication Token"
MISMATCH = "The request signature we calculated does not match the signature you provided."
INVALID_TOKEN = "The security token included in the request is invalid."

Headers = dict[str, str]
# (access, method, url, headers, body) -> the headers to send
Authorizer = Callable[[ApiAccess, str, str, Headers, bytes | None], Headers]


def unsigned(
    access: ApiAccess, method: str, url: str, headers: Headers, body: bytes | None
) -> Headers:
    return headers


def signed_with(**changes: str) -> Authorizer:
    """Signed by botocore, with another secret, key, region or service."""

    def sign(
        access: ApiAccess, method: str, url: str, headers: Headers, body: bytes | None
    ) -> Headers:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        request = AWSRequest(method=method, url=url, data=body or b"", headers=dict(headers))
        credentials = Credentials(
            changes.get("access_key", access.access_key_id),
            changes.get("secret", access.secret_access_key),
            changes.get("token"),
        )
        SigV4Auth(
            credentials, changes.get("service", "execute-api"), changes.get("region", access.region)
        ).add_auth(request)
        return dict(request.headers.items())

    return sign


def signed_at(offset: timedelta) -> Authorizer:
    """Correctly signed, by a clock `offset` away from now (a replay, a skewed client)."""

    def sign(
        access: ApiAccess, method: str, url: str, headers: Headers, body: bytes | None
    ) -> Headers:
        when = datetime.now(UTC).replace(tzinfo=None) + offset
        with mock.patch("botocore.auth.get_current_datetime", return_value=when):
            return access.signer()(method, url, headers, body)

    return sign


def tampered(
    access: ApiAccess, method: str, url: str, headers: Headers, body: bytes | None
) -> Headers:
    """Signed for another body than the one sent."""
    return access.signer()(method, url, headers, (body or b"") + b" ")


def bearer(
    access: ApiAccess, method: str, url: str, headers: Headers, body: bytes | None
) -> Headers:
    return {**headers, "Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"}


def api_key_instead(
    access: ApiAccess, method: str, url: str, headers: Headers, body: bytes | None
) -> Headers:
    return {**headers, "x-api-key": "a" * 40}


# case -> (how it is authorized, the message it must get (prefix), x-amzn-ErrorType)
CASES: dict[str, tuple[Authorizer, str, str]] = {
    "unsigned": (unsigned, MISSING, "MissingAuthenticationTokenException"),
    "an API key instead of a signature": (
        api_key_instead,
        MISSING,
        "MissingAuthenticationTokenException",
    ),
    "wrong secret": (signed_with(secret="not-the-secret"), MISMATCH, "InvalidSignatureException"),
    "body changed after signing": (tampered, MISMATCH, "InvalidSignatureException"),
    "unknown access key": (
        signed_with(access_key="AKIAIOSFODNN7EXAMPLE"),
        INVALID_TOKEN,
        "UnrecognizedClientException",
    ),
    "a session token it cannot know": (
        signed_with(token="FwoGZXIvYXdzEXAMPLE"),
        INVALID_TOKEN,
        "UnrecognizedClientException",
    ),
    "another region": (
        signed_with(region="eu-west-1"),
        "Credential should be scoped to a valid region, not 'eu-west-1'. ",
        "InvalidSignatureException",
    ),
    "another service": (
        signed_with(service="lambda"),
        "Credential should be scoped to correct service: 'execute-api'. ",
        "InvalidSignatureException",
    ),
    "replayed 6 minutes later": (
        signed_at(timedelta(minutes=-6)),
        "Signature expired: ",
        "InvalidSignatureException",
    ),
    "clock 6 minutes ahead": (
        signed_at(timedelta(minutes=6)),
        "Signature not yet current: ",
        "InvalidSignatureException",
    ),
    "a bearer token": (
        bearer,
        "Invalid key=value pair (missing equal-sign) in Authorization header",
        "IncompleteSignatureException",
    ),
}


def invocations(cloud: LocalCloudProcess, key: str) -> int:
    group = f"/aws/lambda/{cloud.function_name(key)}"
    return sum(1 for m in cloud.log_messages(group) if m.startswith("START RequestId:"))


def settled_invocations(cloud: LocalCloudProcess) -> dict[str, int]:
    """The API functions' invocations, once their log groups stop growing (what earlier
    tests sent is shipped)."""

    def settled() -> dict[str, int] | None:
        first = {key: invocations(cloud, key) for key in ("submit-task", "get-task")}
        time.sleep(2)
        second = {key: invocations(cloud, key) for key in ("submit-task", "get-task")}
        return second if first == second else None

    return wait_for(settled, 60, "the functions' log groups to settle")


def refuse(cloud: LocalCloudProcess, case: str) -> int:
    """Send the case's requests (POST and GET, REQUESTS_PER_ROUTE each); each must be API
    Gateway's refusal. Returns how many were refused."""
    authorize, message, error_type = CASES[case]
    access = access_for(cloud.tasks_endpoint)
    assert access is not None and access.mode == "iam"
    refused = 0
    for _ in range(REQUESTS_PER_ROUTE):
        task_id = f"auth-{uuid.uuid4().hex[:10]}0"
        body = json.dumps({"taskId": task_id, "payload": {"n": 1}}).encode()
        for method, url, data in (
            ("POST", cloud.tasks_endpoint, body),
            ("GET", f"{cloud.tasks_endpoint}/{task_id}", b""),
        ):
            headers = {"Content-Type": "application/json"} if data else {}
            sent = authorize(access, method, url, headers, data or None)
            # sent as it is: the test support adds no signature of its own
            answer: Answer = send(url, method, data, sent, signed=False)
            assert answer.status == 403, (case, answer.status, answer.body[:300])
            assert answer.headers["x-amzn-errortype"] == error_type, (case, answer.headers)
            assert answer.json()["message"].startswith(message), (case, answer.body[:300])
            refused += 1
    return refused


@pytest.mark.parametrize("case", list(CASES))
def test_a_wrongly_authenticated_request_is_refused_as_api_gateway_refuses_it(
    api_cloud: LocalCloudProcess, case: str
) -> None:
    # Given POST /tasks and GET /tasks/{taskId} requests authenticated the `case` way
    # When they are sent  Then each gets API Gateway's 403, its error type and its words
    assert refuse(api_cloud, case) == 2 * REQUESTS_PER_ROUTE


def test_no_refused_request_reaches_a_function(
    api_cloud: LocalCloudProcess, request: pytest.FixtureRequest
) -> None:
    # Given the API functions' invocations so far
    before = settled_invocations(api_cloud)
    # When every case's requests are sent, then one correctly signed request per route
    refused = {case: refuse(api_cloud, case) for case in CASES}
    task_id = f"auth-ok-{uuid.uuid4().hex[:8]}0"
    body = json.dumps({"taskId": task_id, "payload": {}}).encode()
    posted = send(api_cloud.tasks_endpoint, "POST", body, {"Content-Type": "application/json"})
    assert posted.status == 202, posted.body
    assert send(f"{api_cloud.tasks_endpoint}/{task_id}", "GET").status == 200
    # Then each function ran once more: for the signed request, for no refused one
    after = settled_invocations(api_cloud)
    assert after == {key: count + 1 for key, count in before.items()}, (before, after)
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        width = max(len(case) for case in CASES)
        lines = ["", "refused requests per case (POST + GET; functions invoked by them: 0):"]
        lines += [f"  {case:<{width}}  {refused[case]:>3} refused" for case in CASES]
        lines.append(f"  {'total':<{width}}  {sum(refused.values()):>3} refused")
        lines.append(f"  invocations before {before}, after {after} (+1 each: the signed pair)")
        print("\n".join(lines))
