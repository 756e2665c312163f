"""The Lambda proxy integration (payload format 1.0): an HTTP request as a proxy event, a
proxy response as HTTP (None when it is malformed: API Gateway's 502).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ftb.localcloud.apigateway.models import ApiResource, RestApi
from ftb.localcloud.apigateway.responses import Response

ACCOUNT_ID = "123456789012"


@dataclass
class HttpRequest:
    method: str
    raw_path: str  # path as received, without the query string
    query: list[tuple[str, str]]
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str
    protocol: str = "HTTP/1.1"
    raw_query: str = ""  # the query string as received (SigV4 canonicalizes it)

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        values = [value for key, value in self.headers if key.lower() == wanted]
        return values[-1] if values else None


def proxy_event(
    api: RestApi,
    stage: str,
    resource: ApiResource,
    path_parameters: dict[str, str],
    path: str,
    request: HttpRequest,
    request_id: str,
    host: str,
) -> dict[str, Any]:
    """The REST API Lambda proxy event (payload format 1.0)."""
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for key, value in request.headers:
        headers[key] = value
        multi_headers.setdefault(key, []).append(value)
    query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for key, value in request.query:
        query[key] = value
        multi_query.setdefault(key, []).append(value)
    body, encoded = _event_body(api, request)
    now = datetime.now(UTC)
    resource_path = api.path_of(resource.id)
    user_agent = request.header("User-Agent")
    return {
        "resource": resource_path,
        "path": path,
        "httpMethod": request.method,
        "headers": headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": api.stages.get(stage) or None,
        "requestContext": {
            "resourceId": resource.id,
            "resourcePath": resource_path,
            "httpMethod": request.method,
            "extendedRequestId": request_id[:16],
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{stage}{path}",
            "accountId": ACCOUNT_ID,
            "protocol": request.protocol,
            "stage": stage,
            "domainPrefix": host.split(".")[0].split(":")[0],
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": request.source_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": user_agent,
                "user": None,
            },
            "domainName": host,
            "apiId": api.id,
        },
        "body": body,
        "isBase64Encoded": encoded,
    }


def _event_body(api: RestApi, request: HttpRequest) -> tuple[str | None, bool]:
    if not request.body:
        return None, False
    content_type = (request.header("Content-Type") or "").split(";")[0].strip().lower()
    binary = any(_media_type_matches(pattern, content_type) for pattern in api.binary_media_types)
    if not binary:
        try:
            return request.body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(request.body).decode("ascii"), True


def _media_type_matches(pattern: str, content_type: str) -> bool:
    pattern = pattern.replace("~1", "/").lower()
    if pattern == "*/*":
        return True
    if pattern.endswith("/*"):
        return content_type.startswith(pattern[:-1])
    return pattern == content_type


def proxy_response(payload: bytes) -> Response | None:
    """A Lambda proxy response -> HTTP, or None when it is malformed (API Gateway's 502)."""
    try:
        document = json.loads(payload or b"null")
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    # REST APIs accept exactly these keys (no payload format 2.0 `cookies`), statusCode required.
    allowed = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}
    if set(document) - allowed:
        return None
    status = document.get("statusCode")
    body = document.get("body")
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        return None
    if body is not None and not isinstance(body, str):
        return None
    headers: list[tuple[str, str]] = []
    single = document.get("headers") or {}
    multi = document.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        return None
    for key, values in multi.items():
        headers.extend((str(key), str(value)) for value in (values or []))
    headers.extend((str(k), str(v)) for k, v in single.items() if k not in multi)
    raw = (body or "").encode("utf-8")
    if document.get("isBase64Encoded") and body:
        try:
            raw = base64.b64decode(body)
        except ValueError:
            return None
    if not any(key.lower() == "content-type" for key, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return Response(status=status, headers=headers, body=raw)
