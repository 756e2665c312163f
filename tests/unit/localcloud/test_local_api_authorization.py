"""The local API's authorization: SigV4 (AWS_IAM methods), API keys and usage plans.

Requests are signed by botocore (as every AWS SDK signs) and checked by the gateway; each
refusal must be API Gateway's own (status, x-amzn-ErrorType, message) and must never reach
the function.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from ftb.localcloud.apigateway import ApiGateway, ApiMethod, ApiResource, HttpRequest, RestApi
from ftb.localcloud.apigateway.api_keys import ApiKey, UsagePlan, UsagePlans
from ftb.localcloud.apigateway.models import GatewayResponse
from ftb.localcloud.apigateway.sigv4 import MISMATCH, LocalCredentials, verify
from ftb.localcloud.synth import cache_key

REGION = "us-east-1"
LOCAL = LocalCredentials("ftb-local", "ftb-local-secret")
HOST = "127.0.0.1:3000"


def signed(
    method: str = "POST",
    path: str = "/v1/tasks",
    body: bytes = b'{"taskId":"a","payload":{}}',
    *,
    query: str = "",
    access_key: str = LOCAL.access_key_id,
    secret: str = LOCAL.secret_access_key,
    token: str | None = None,
    region: str = REGION,
    service: str = "execute-api",
    headers: dict[str, str] | None = None,
) -> HttpRequest:
    """A request as a botocore client sends it, signed now."""
    url = f"http://{HOST}{path}" + (f"?{query}" if query else "")
    request = AWSRequest(
        method=method,
        url=url,
        data=body,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    SigV4Auth(Credentials(access_key, secret, token), service, region).add_auth(request)
    assert request.method is not None
    return received(request.method, url, list(request.headers.items()), body)


def received(
    method: str, url: str, headers: list[tuple[str, str]], body: bytes = b""
) -> HttpRequest:
    """What the server hands the gateway for that request (Host added, as on the wire)."""
    parts = urlsplit(url)
    return HttpRequest(
        method=method,
        raw_path=parts.path,
        query=parse_qsl(parts.query, keep_blank_values=True),
        headers=[("Host", HOST), *headers],
        body=body,
        source_ip="127.0.0.1",
        raw_query=parts.query,
    )


def message_of(refusal: Any) -> str:
    assert refusal is not None
    return str(refusal.message)


# -- SigV4 ---------------------------------------------------------------------------------------


def test_a_request_signed_with_the_local_credentials_passes() -> None:
    # Given a POST with a JSON body and a GET with a repeated, encoded query, signed by botocore
    post = signed()
    get = signed("GET", "/v1/extra/world", b"", query="tag=b&tag=a&q=a%20b%2Fc")
    # Then both pass
    assert verify(post, credentials=LOCAL, region=REGION) is None
    assert verify(get, credentials=LOCAL, region=REGION) is None


def test_an_unsigned_request_is_missing_its_authentication_token() -> None:
    refusal = verify(
        received("POST", f"http://{HOST}/v1/tasks", []), credentials=LOCAL, region=REGION
    )
    assert refusal is not None
    assert (refusal.response_type, refusal.message, refusal.error_type) == (
        "MISSING_AUTHENTICATION_TOKEN",
        "Missing Authentication Token",
        "MissingAuthenticationTokenException",
    )


def test_a_wrong_secret_gets_the_signature_mismatch_with_the_expected_strings() -> None:
    refusal = verify(signed(secret="not-the-secret"), credentials=LOCAL, region=REGION)
    assert refusal is not None and refusal.error_type == "InvalidSignatureException"
    # API Gateway's message: the sentence, then the canonical string and string to sign
    assert refusal.message.startswith(MISMATCH + "\n\nThe Canonical String for this request")
    assert "'POST\n/v1/tasks\n\n" in refusal.message
    assert "\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n" in refusal.message
    assert f"/{REGION}/execute-api/aws4_request" in refusal.message


def test_a_body_changed_after_signing_fails_the_signature() -> None:
    request = signed()
    request.body = b'{"taskId":"b","payload":{}}'
    assert message_of(verify(request, credentials=LOCAL, region=REGION)).startswith(MISMATCH)


def test_a_false_declared_payload_hash_fails_the_signature() -> None:
    request = signed(headers={"X-Amz-Content-SHA256": "0" * 64})
    assert message_of(verify(request, credentials=LOCAL, region=REGION)).startswith(MISMATCH)


def test_another_region_or_service_is_refused_as_api_gateway_refuses_it() -> None:
    assert (
        message_of(verify(signed(region="eu-west-1"), credentials=LOCAL, region=REGION))
        == "Credential should be scoped to a valid region, not 'eu-west-1'. "
    )
    assert (
        message_of(verify(signed(service="lambda"), credentials=LOCAL, region=REGION))
        == "Credential should be scoped to correct service: 'execute-api'. "
    )


@pytest.mark.parametrize(
    ("access_key", "token"), [("AKIDUNKNOWN", None), (LOCAL.access_key_id, "a-session-token")]
)
def test_an_unknown_key_or_token_is_an_invalid_security_token(
    access_key: str, token: str | None
) -> None:
    refusal = verify(signed(access_key=access_key, token=token), credentials=LOCAL, region=REGION)
    assert refusal is not None
    assert refusal.message == "The security token included in the request is invalid."
    assert refusal.error_type == "UnrecognizedClientException"


def test_a_signature_outside_the_five_minute_skew_is_refused_with_api_gateways_words() -> None:
    # Given a request signed now
    request = signed()
    signed_at = datetime.strptime(
        next(v for k, v in request.headers if k == "X-Amz-Date"), "%Y%m%dT%H%M%SZ"
    ).replace(tzinfo=UTC)
    # When it arrives 4 minutes later  Then it passes
    assert (
        verify(request, credentials=LOCAL, region=REGION, now=signed_at + timedelta(minutes=4))
        is None
    )
    # When it is replayed 6 minutes later  Then the signature has expired
    later = signed_at + timedelta(minutes=6)
    stamp = signed_at.strftime("%Y%m%dT%H%M%SZ")
    assert message_of(verify(request, credentials=LOCAL, region=REGION, now=later)) == (
        f"Signature expired: {stamp} is now earlier than "
        f"{(later - timedelta(minutes=5)).strftime('%Y%m%dT%H%M%SZ')} "
        f"({later.strftime('%Y%m%dT%H%M%SZ')} - 5 min.)"
    )
    # When the signer's clock runs 6 minutes ahead  Then it is not yet current
    earlier = signed_at - timedelta(minutes=6)
    assert message_of(verify(request, credentials=LOCAL, region=REGION, now=earlier)) == (
        f"Signature not yet current: {stamp} is still later than "
        f"{(earlier + timedelta(minutes=5)).strftime('%Y%m%dT%H%M%SZ')} "
        f"({earlier.strftime('%Y%m%dT%H%M%SZ')} + 5 min.)"
    )


@pytest.mark.parametrize(
    ("authorization", "starts"),
    [
        ("Bearer eyJhbGciOi", "Invalid key=value pair (missing equal-sign) in Authorization"),
        ("AWS4-HMAC-SHA256 Credential=x", "Authorization header requires 'Signature' parameter."),
        ("Basic a=b", "Unsupported Authorization Type: 'Basic'."),
    ],
)
def test_a_malformed_authorization_header_is_an_incomplete_signature(
    authorization: str, starts: str
) -> None:
    request = received(
        "POST",
        f"http://{HOST}/v1/tasks",
        [("Authorization", authorization), ("X-Amz-Date", "20260101T000000Z")],
    )
    refusal = verify(request, credentials=LOCAL, region=REGION)
    assert refusal is not None and refusal.error_type == "IncompleteSignatureException"
    assert refusal.message.startswith(starts), refusal.message


@pytest.mark.parametrize("host", ["[", "127.0.0.1:3000]", "\x9b]\xdf", "h\x00st", ""])
def test_a_host_header_that_is_no_host_is_a_signature_mismatch_not_a_crash(host: str) -> None:
    # Given a correctly signed request whose Host header was replaced by bytes no URL holds
    request = signed()
    request = received(
        "POST",
        f"http://{HOST}/v1/tasks",
        [(k, v) for k, v in request.headers if k.lower() != "host"],
        request.body,
    )
    request.headers[:] = [("Host", host), *[(k, v) for k, v in request.headers if k != "Host"]]
    # When the gateway checks it  Then it is API Gateway's 403 for a signature mismatch
    refusal = verify(request, credentials=LOCAL, region=REGION)
    assert refusal is not None and refusal.error_type == "InvalidSignatureException"
    assert refusal.message.startswith(MISMATCH)


# -- the gateway: refused requests never reach the function --------------------------------------


@dataclass
class Invocations:
    count: int = 0

    def __call__(self, function: str, payload: bytes) -> Any:
        self.count += 1
        body = json.dumps({"statusCode": 202, "body": "{}"}).encode()
        return type("Result", (), {"function_error": None, "status_code": 200, "payload": body})()


def gateway(
    authorization: str = "AWS_IAM", api_key_required: bool = False
) -> tuple[ApiGateway, Invocations]:
    api = RestApi(id="api", name="api", logical_id="Api", root_id="root")
    api.resources["root"] = ApiResource("root", None, "")
    api.resources["tasks"] = ApiResource("tasks", "root", "tasks")
    api.stages["v1"] = {}
    api.methods[("tasks", "POST")] = ApiMethod(
        http_method="POST",
        resource_id="tasks",
        function="submit-task",
        mock=None,
        validator_id=None,
        request_models={},
        request_parameters={},
        authorization=authorization,
        api_key_required=api_key_required,
    )
    invocations = Invocations()
    gw = ApiGateway(invocations)
    gw.set_apis([api])
    plans = UsagePlans()
    plans.keys["k1"] = ApiKey("k1", "client", "the-key-value-0123456789")
    plans.plans["p1"] = UsagePlan("p1", "plan", {("api", "v1")}, 100.0, 100, 1000, key_ids={"k1"})
    gw.set_access(LOCAL, REGION, plans)
    return gw, invocations


def test_the_gateway_lets_signed_requests_through_and_refuses_the_rest_before_the_function() -> (
    None
):
    gw, invocations = gateway()
    # Given an unsigned request and one signed with the wrong secret
    unsigned = gw.handle(received("POST", f"http://{HOST}/v1/tasks", [], b"{}"), HOST)
    wrong = gw.handle(signed(secret="wrong"), HOST)
    # Then both are API Gateway's 403s, and the function ran for neither
    assert unsigned.status == 403 and json.loads(unsigned.body) == {
        "message": "Missing Authentication Token"
    }
    assert ("x-amzn-ErrorType", "MissingAuthenticationTokenException") in unsigned.headers
    assert wrong.status == 403 and json.loads(wrong.body)["message"].startswith(MISMATCH)
    assert ("x-amzn-ErrorType", "InvalidSignatureException") in wrong.headers
    assert invocations.count == 0
    # When the request is signed with the local credentials  Then it reaches the function
    assert gw.handle(signed(), HOST).status == 202
    assert invocations.count == 1


# -- API keys and usage plans ---------------------------------------------------------------------


def test_a_missing_wrong_or_other_stage_key_is_forbidden() -> None:
    gw, invocations = gateway("NONE", api_key_required=True)
    url = f"http://{HOST}/v1/tasks"
    for headers in ([], [("x-api-key", "wrong")]):
        answer = gw.handle(received("POST", url, headers, b"{}"), HOST)
        assert answer.status == 403 and json.loads(answer.body) == {"message": "Forbidden"}
        assert ("x-amzn-ErrorType", "ForbiddenException") in answer.headers
    # Given the key's plan covers another stage only
    gw.usage_plans.plans["p1"].stages = {("api", "prod")}
    answer = gw.handle(received("POST", url, [("x-api-key", "the-key-value-0123456789")]), HOST)
    assert answer.status == 403 and json.loads(answer.body) == {"message": "Forbidden"}
    assert invocations.count == 0


def test_the_usage_plans_throttle_and_quota_answer_429_with_api_gateways_bodies() -> None:
    plans = UsagePlans()
    plans.keys["k"] = ApiKey("k", "client", "value")
    plans.plans["p"] = UsagePlan("p", "plan", {("api", "v1")}, 1.0, 2, 3, key_ids={"k"})
    day = datetime(2026, 1, 1, 12, tzinfo=UTC)
    # Given a burst of 2 at 1 request/s: the third request in the same instant is throttled
    assert plans.check("api", "v1", "value", now=day, monotonic=0.0) is None
    assert plans.check("api", "v1", "value", now=day, monotonic=0.0) is None
    throttled = plans.check("api", "v1", "value", now=day, monotonic=0.0)
    assert throttled is not None and (throttled.message, throttled.error_type) == (
        "Too Many Requests",
        "TooManyRequestsException",
    )
    # And a second later one token is back; the quota of 3 a day is then used up
    assert plans.check("api", "v1", "value", now=day, monotonic=1.0) is None
    exceeded = plans.check("api", "v1", "value", now=day, monotonic=5.0)
    assert exceeded is not None and (exceeded.message, exceeded.error_type) == (
        "Limit Exceeded",
        "LimitExceededException",
    )
    # And the next day (00:00 UTC) the quota starts again
    assert plans.check("api", "v1", "value", now=day + timedelta(days=1), monotonic=9.0) is None


# -- `ftb local -c KEY=VALUE` -------------------------------------------------------------------


def test_cdk_context_is_part_of_the_synth_cache_key(tmp_path: Path) -> None:
    # Given a project
    (tmp_path / "cdk.json").write_text("{}")
    plain = cache_key(tmp_path)
    # Then each context is its own synthesized template; the order of its keys does not matter
    api_key = cache_key(tmp_path, context={"apiAuth": "apiKey", "x": "1"})
    assert api_key != plain
    assert cache_key(tmp_path, context={"x": "1", "apiAuth": "apiKey"}) == api_key
    assert cache_key(tmp_path, context={"apiAuth": "none", "x": "1"}) != api_key
    assert cache_key(tmp_path, context={}) == plain


def test_a_path_outside_the_stage_is_api_gateways_bare_403_and_the_terminal_names_the_routes() -> (
    None
):
    # Given an API on stage v1 whose MISSING_AUTHENTICATION_TOKEN response lists the routes,
    # and a gateway whose lines reach the terminal
    gw, invocations = gateway("NONE")
    gw.apis[0].gateway_responses["MISSING_AUTHENTICATION_TOKEN"] = GatewayResponse(
        403, {}, {"application/json": '{"message":"Missing Authentication Token","routes":[]}'}
    )
    lines: list[str] = []
    gw._echo = lines.append
    # When a client calls /tasks (for /v1/tasks) twice, then a route inside the stage that
    # does not exist
    outside = [gw.handle(received("GET", f"http://{HOST}/tasks", []), HOST) for _ in range(2)]
    inside = gw.handle(received("GET", f"http://{HOST}/v1/nothing", []), HOST)
    # Then outside the stage the answer is API Gateway's, untouched by the API's responses
    for answer in outside:
        assert answer.status == 403 and json.loads(answer.body) == {"message": "Forbidden"}
        assert ("x-amzn-ErrorType", "ForbiddenException") in answer.headers
    # And inside it, the API's own response (with its hint) as before
    assert json.loads(inside.body)["routes"] == []
    # And the terminal says once where the routes are, under the stage path
    hints = [line for line in lines if "outside the API's stage path" in line]
    assert hints == [
        "GET /tasks is outside the API's stage path, so API Gateway answers a bare 403 "
        "Forbidden; the routes are under /v1: POST /v1/tasks"
    ]
    assert invocations.count == 0


def test_each_request_a_stage_answers_reaches_cloudwatchs_hook_and_no_other() -> None:
    # Given a gateway whose requests are counted (the local CloudWatch's ApiMetrics)
    gw, _ = gateway("NONE")
    counted: list[tuple[str, str, int]] = []
    gw.metrics = lambda api, stage, status, _millis: counted.append((api, stage, status))
    # When a client calls a route of stage v1, a missing route of it, and a path outside it
    gw.handle(received("POST", f"http://{HOST}/v1/tasks", [], b"{}"), HOST)
    gw.handle(received("GET", f"http://{HOST}/v1/nothing", []), HOST)
    gw.handle(received("GET", f"http://{HOST}/tasks", []), HOST)
    # Then the two answers of the stage are counted with their status; the bare 403 outside
    # every stage is not (API Gateway publishes metrics per API and stage)
    assert counted == [("api", "v1", 202), ("api", "v1", 403)]
