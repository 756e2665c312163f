"""The REST API, served locally as API Gateway serves it.

Real HTTP requests become Lambda proxy events (payload format 1.0) after the method's request
validator and model have been applied the way API Gateway applies them; responses that are
not valid proxy responses, and function errors, become API Gateway's 502. Errors API Gateway
produces itself (unknown route, invalid body) use its gateway responses, including those the
template customizes (AWS::ApiGateway::GatewayResponse).

URLs: `http://<host>:<port>/<stage>/<path>` (the stack's `execute-api` URL with the local host
in front), and `/restapis/<apiId>/<stage>/_user_request_/<path>` when a stack has several APIs.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import jsonschema

# API Gateway gives up on an integration after 29 seconds (504).
INTEGRATION_TIMEOUT_SECONDS = 29.0
# API Gateway refuses a body over 10 MB (413) before routing it anywhere.
MAX_REQUEST_BODY_BYTES = 10 * 1024 * 1024
# Lambda refuses a synchronous invocation payload over 6 MB; API Gateway answers 413.
MAX_LAMBDA_EVENT_BYTES = 6 * 1024 * 1024
ACCOUNT_ID = "123456789012"


@dataclass
class ApiResource:
    id: str
    parent_id: str | None
    path_part: str


@dataclass(frozen=True)
class MockIntegration:
    status: int
    headers: dict[str, str]
    body: str


@dataclass(frozen=True)
class GatewayResponse:
    status: int | None
    headers: dict[str, str]
    templates: dict[str, str]


@dataclass
class ApiMethod:
    http_method: str
    resource_id: str
    function: str | None  # name or ARN of the AWS_PROXY function
    mock: MockIntegration | None
    validator_id: str | None
    request_models: dict[str, str]  # content type (lowercase) -> model name
    request_parameters: dict[str, bool]  # method.request.querystring.x -> required
    authorization: str = "NONE"
    api_key_required: bool = False


@dataclass
class RestApi:
    id: str
    name: str
    logical_id: str
    root_id: str
    binary_media_types: list[str] = field(default_factory=list)
    resources: dict[str, ApiResource] = field(default_factory=dict)
    methods: dict[tuple[str, str], ApiMethod] = field(default_factory=dict)
    validators: dict[str, tuple[bool, bool]] = field(default_factory=dict)  # id -> body, params
    models: dict[str, Any] = field(default_factory=dict)
    stages: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> stage variables
    gateway_responses: dict[str, GatewayResponse] = field(default_factory=dict)

    def path_of(self, resource_id: str) -> str:
        parts = []
        node = self.resources.get(resource_id)
        while node is not None and node.parent_id is not None:
            parts.append(node.path_part)
            node = self.resources.get(node.parent_id)
        return "/" + "/".join(reversed(parts))

    def match(self, path: str) -> tuple[ApiResource, dict[str, str]] | None:
        """API Gateway's routing: a literal segment beats {param}, which beats {proxy+}."""
        segments = [unquote(part) for part in path.strip("/").split("/") if part != ""]
        root = self.resources[self.root_id]
        return self._match(root, segments, {})

    def _match(
        self, node: ApiResource, segments: list[str], params: dict[str, str]
    ) -> tuple[ApiResource, dict[str, str]] | None:
        if not segments:
            return node, params
        children = [child for child in self.resources.values() if child.parent_id == node.id]
        head, rest = segments[0], segments[1:]
        for child in sorted(children, key=_route_rank):
            part = child.path_part
            if part.startswith("{") and part.endswith("+}"):
                return child, {**params, part[1:-2]: "/".join(segments)}
            if part.startswith("{") and part.endswith("}"):
                found = self._match(child, rest, {**params, part[1:-1]: head})
            elif part == head:
                found = self._match(child, rest, params)
            else:
                continue
            if found is not None:
                return found
        return None

    def method(self, resource_id: str, http_method: str) -> ApiMethod | None:
        return self.methods.get((resource_id, http_method)) or self.methods.get(
            (resource_id, "ANY")
        )


def _route_rank(resource: ApiResource) -> int:
    part = resource.path_part
    if part.endswith("+}"):
        return 2
    return 1 if part.startswith("{") else 0


# -- API Gateway's own responses ---------------------------------------------------------------

_DEFAULT_RESPONSES: dict[str, tuple[int, str]] = {
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token"),
    "ACCESS_DENIED": (403, "Forbidden"),
    "BAD_REQUEST_BODY": (400, "Invalid request body"),
    "BAD_REQUEST_PARAMETERS": (400, "Missing required request parameters"),
    "UNSUPPORTED_MEDIA_TYPE": (415, "Unsupported Media Type"),
    "REQUEST_TOO_LARGE": (413, "Request Too Long"),
    "INTEGRATION_FAILURE": (502, "Internal server error"),
    "INTEGRATION_TIMEOUT": (504, "Endpoint request timed out"),
    "DEFAULT_5XX": (500, "Internal server error"),
}
_ERROR_TYPES = {
    400: "BadRequestException",
    403: "MissingAuthenticationTokenException",
    413: "BadRequestException",
    415: "UnsupportedMediaTypeException",
    502: "InternalServerErrorException",
    504: "InternalServerErrorException",
    500: "InternalServerErrorException",
}


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def gateway_response(
    api: RestApi | None,
    response_type: str,
    request_id: str,
    *,
    message: str | None = None,
    validation_error: str = "",
) -> Response:
    status, default_message = _DEFAULT_RESPONSES[response_type]
    text = message or default_message
    family = "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
    custom = None
    if api is not None:
        custom = api.gateway_responses.get(response_type) or api.gateway_responses.get(family)
    template = '{"message":$context.error.messageString}'
    headers: dict[str, str] = {}
    if custom is not None:
        status = custom.status or status
        headers.update(custom.headers)
        template = custom.templates.get("application/json", template)
    rendered = (
        template.replace("$context.error.messageString", json.dumps(text))
        .replace("$context.error.message", text)
        .replace("$context.error.validationErrorString", validation_error)
        .replace("$context.error.responseType", response_type)
        .replace("$context.requestId", request_id)
    )
    if status == 403 and response_type == "ACCESS_DENIED":
        error_type = "ForbiddenException"
    else:
        error_type = _ERROR_TYPES.get(status, "ApiGatewayException")
    return Response(
        status=status,
        headers=[
            ("Content-Type", "application/json"),
            ("x-amzn-ErrorType", error_type),
            *headers.items(),
        ],
        body=rendered.encode("utf-8"),
    )


# -- the proxy event ---------------------------------------------------------------------------


@dataclass
class HttpRequest:
    method: str
    raw_path: str  # path as received, without the query string
    query: list[tuple[str, str]]
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str
    protocol: str = "HTTP/1.1"

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


# -- the gateway ---------------------------------------------------------------------------------

Invoke = Callable[[str, bytes], Any]  # LambdaRuntime.invoke(name_or_arn, payload) -> InvokeResult
Echo = Callable[[str], None]


class ApiGateway:
    """Routing, validation and integration: everything between the socket and the function."""

    def __init__(self, invoke: Invoke, echo: Echo | None = None) -> None:
        self.apis: list[RestApi] = []
        self._invoke = invoke
        self._echo = echo
        self._pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="api-invoke")

    def set_apis(self, apis: list[RestApi]) -> None:
        self.apis = list(apis)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def handle(self, request: HttpRequest, host: str) -> Response:
        started = time.monotonic()
        request_id = str(uuid.uuid4())
        try:
            response = self._handle(request, host, request_id)
        except Exception as error:  # API Gateway always answers; never drop the connection
            if self._echo is not None:
                self._echo(f"{request.method} {request.raw_path} failed in the gateway: {error!r}")
            response = gateway_response(None, "DEFAULT_5XX", request_id)
        response.headers.append(("x-amzn-RequestId", request_id))
        if self._echo is not None:
            millis = (time.monotonic() - started) * 1000
            self._echo(
                f"{request.method} {request.raw_path} -> {response.status} ({millis:.0f} ms)"
            )
        return response

    def _handle(self, request: HttpRequest, host: str, request_id: str) -> Response:
        located = self._locate(request.raw_path)
        if located is None:
            return gateway_response(None, "ACCESS_DENIED", request_id)
        api, stage, path = located
        if stage not in api.stages:
            return gateway_response(api, "ACCESS_DENIED", request_id)
        matched = api.match(path)
        method = api.method(matched[0].id, request.method) if matched else None
        if matched is None or method is None:
            return gateway_response(api, "MISSING_AUTHENTICATION_TOKEN", request_id)
        resource, path_parameters = matched
        rejected = self._validate(api, method, request, path_parameters, request_id)
        if rejected is not None:
            return rejected
        if method.mock is not None:
            return Response(
                status=method.mock.status,
                headers=[("Content-Type", "application/json"), *method.mock.headers.items()],
                body=method.mock.body.encode("utf-8"),
            )
        if method.function is None:
            return gateway_response(api, "DEFAULT_5XX", request_id)
        event = proxy_event(api, stage, resource, path_parameters, path, request, request_id, host)
        return self._integrate(api, method.function, event, request_id)

    def _locate(self, raw_path: str) -> tuple[RestApi, str, str] | None:
        """(api, stage, path within the stage) for `/<stage>/...` or `/restapis/<id>/...`."""
        parts = raw_path.split("/")
        if len(parts) > 4 and parts[1] == "restapis" and parts[4] == "_user_request_":
            api = next((a for a in self.apis if a.id == parts[2]), None)
            if api is None:
                return None
            return api, unquote(parts[3]), "/" + "/".join(parts[5:])
        if not self.apis or len(parts) < 2 or not parts[1]:
            return None
        return self.apis[0], unquote(parts[1]), "/" + "/".join(parts[2:])

    def _validate(
        self,
        api: RestApi,
        method: ApiMethod,
        request: HttpRequest,
        path_parameters: dict[str, str],
        request_id: str,
    ) -> Response | None:
        validate_body, validate_parameters = api.validators.get(
            method.validator_id or "", (False, False)
        )
        if validate_parameters:
            missing = [
                name.split(".", 3)[3]
                for name, required in method.request_parameters.items()
                if required and not _parameter_present(name, request, path_parameters)
            ]
            if missing:
                return gateway_response(
                    api,
                    "BAD_REQUEST_PARAMETERS",
                    request_id,
                    message=f"Missing required request parameters: [{', '.join(missing)}]",
                )
        if validate_body:
            # A request without a Content-Type is taken as application/json, as API Gateway does.
            content_type = request.header("Content-Type") or "application/json"
            content_type = content_type.split(";")[0].strip().lower()
            model_name = method.request_models.get(content_type) or method.request_models.get(
                "$default"
            )
            schema = api.models.get(model_name) if model_name else None
            if schema is not None:
                error = validate_json_body(schema, request.body)
                if error is not None:
                    return gateway_response(
                        api, "BAD_REQUEST_BODY", request_id, validation_error=error
                    )
        return None

    def _integrate(
        self, api: RestApi, function: str, event: dict[str, Any], request_id: str
    ) -> Response:
        payload = json.dumps(event).encode("utf-8")
        if len(payload) > MAX_LAMBDA_EVENT_BYTES:
            return gateway_response(api, "REQUEST_TOO_LARGE", request_id)
        future = self._pool.submit(self._invoke, function, payload)
        try:
            result = future.result(timeout=INTEGRATION_TIMEOUT_SECONDS)
        except FutureTimeout:
            return gateway_response(api, "INTEGRATION_TIMEOUT", request_id)
        except Exception as error:  # the runtime could not invoke it at all
            if self._echo is not None:
                self._echo(f"invoking {function} failed: {error}")
            return gateway_response(api, "DEFAULT_5XX", request_id)
        if result.function_error or result.status_code >= 300:
            return gateway_response(api, "INTEGRATION_FAILURE", request_id)
        response = proxy_response(result.payload)
        if response is None:
            if self._echo is not None:
                self._echo(f"{function} returned a malformed Lambda proxy response")
            return gateway_response(api, "INTEGRATION_FAILURE", request_id)
        return response


def _parameter_present(name: str, request: HttpRequest, path_parameters: dict[str, str]) -> bool:
    parts = name.split(".", 3)  # method.request.<location>.<name>
    if len(parts) != 4:
        return True
    location, key = parts[2], parts[3]
    if location == "path":
        return bool(path_parameters.get(key))
    if location == "querystring":
        return any(k == key and v != "" for k, v in request.query)
    if location == "header":
        return bool(request.header(key))
    return True


def validate_json_body(schema: Any, body: bytes) -> str | None:
    """None when valid; else API Gateway's validation error string (`[message, ...]`)."""
    try:
        document = json.loads(body.decode("utf-8")) if body else None
    except (ValueError, UnicodeDecodeError) as error:
        return f"[Invalid JSON: {error}]"
    except RecursionError:  # e.g. 10,000 nested arrays: a client error, not a crash
        return "[Invalid JSON: nested too deeply]"
    # API Gateway models are JSON Schema draft 4.
    validator = jsonschema.Draft4Validator(schema)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    messages = []
    for found in errors:
        where = "/".join(str(part) for part in found.absolute_path)
        messages.append(f"{where}: {found.message}" if where else found.message)
    return "[" + ", ".join(messages) + "]"


# -- the HTTP server ---------------------------------------------------------------------------


class ApiServer:
    """A threaded HTTP server in front of `ApiGateway`. Bound at construction (port 0 = any
    free port), so the URL is known before the stack is provisioned; serving starts later."""

    def __init__(self, gateway: ApiGateway, host: str = "127.0.0.1", port: int = 3000) -> None:
        self.gateway = gateway
        self._host = host
        self._server = ThreadingHTTPServer((host, port), _handler_class(gateway))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="api",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
        self.gateway.close()


def _handler_class(gateway: ApiGateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "ftb-local-apigateway"

        def _serve(self) -> None:
            split = urlsplit(self.path)
            try:
                body = self._body()
            except _BodyRejected as rejected:
                self.close_connection = True  # the rest of the body was not read
                self.send_error(rejected.status, rejected.message)
                return
            request = HttpRequest(
                method=self.command,
                raw_path=split.path,
                query=parse_qsl(split.query, keep_blank_values=True),
                headers=list(self.headers.items()),
                body=body,
                source_ip=self.client_address[0],
                protocol=self.request_version,
            )
            host = self.headers.get("Host") or "localhost"
            response = gateway.handle(request, host)
            self.send_response(response.status, _reason(response.status))
            for key, value in response.headers:
                if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        def _body(self) -> bytes:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                chunks: list[bytes] = []
                total = 0
                while True:
                    try:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    except ValueError:
                        raise _BodyRejected(400, "Malformed chunked request body") from None
                    total += size
                    if total > MAX_REQUEST_BODY_BYTES:
                        raise _BodyRejected(413, _TOO_LONG)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass  # trailers
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                raise _BodyRejected(400, "Content-Length is not a number") from None
            if length > MAX_REQUEST_BODY_BYTES:
                self._discard(length)  # so that the client, still sending, reads the answer
                raise _BodyRejected(413, _TOO_LONG)
            return self.rfile.read(length) if length > 0 else b""

        def _discard(self, length: int) -> None:
            remaining = min(length, _MAX_DISCARDED_BYTES)
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, 1 << 16))
                if not chunk:
                    return
                remaining -= len(chunk)

        def send_error(
            self, code: int, message: str | None = None, explain: str | None = None
        ) -> None:
            """http.server's own refusals (oversized headers, a bad request line or body
            framing) as JSON, like every other answer of the gateway, not as an HTML page."""
            body = json.dumps({"message": message or _reason(code)}).encode("utf-8")
            self.send_response(code, _reason(code))
            self.send_header("Content-Type", "application/json")
            self.send_header("Connection", "close")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 205, 304):
                self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

        def __getattr__(self, name: str) -> Any:
            # Any other method (TRACE, CONNECT, made-up ones) is one the API does not define:
            # the gateway's 403, not http.server's 501 (a client mistake is never a 5xx).
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:  # the gateway logs requests
            return

    return Handler


_TOO_LONG = f"HTTP content length exceeded {MAX_REQUEST_BODY_BYTES} bytes."
# Beyond this, an oversized body is not even read: the connection is closed.
_MAX_DISCARDED_BYTES = 8 * MAX_REQUEST_BODY_BYTES


class _BodyRejected(Exception):
    """A request body refused before it is read in full (the connection is then closed)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
