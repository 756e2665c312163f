"""Routing, validation and integration: everything between the HTTP server and the function."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any
from urllib.parse import unquote

from ftb.localcloud.apigateway import sigv4
from ftb.localcloud.apigateway.api_keys import API_KEY_HEADER, UsagePlans
from ftb.localcloud.apigateway.models import ApiMethod, RestApi, offered_routes
from ftb.localcloud.apigateway.proxy import HttpRequest, proxy_event, proxy_response
from ftb.localcloud.apigateway.responses import Response, gateway_response
from ftb.localcloud.apigateway.validation import parameter_present, validate_json_body

INTEGRATION_TIMEOUT_SECONDS = 29.0
# API Gateway refuses a body over 10 MB (413) before routing it anywhere.
# Lambda refuses a synchronous invocation payload over 6 MB; API Gateway answers 413.
MAX_LAMBDA_EVENT_BYTES = 6 * 1024 * 1024
# Distinct paths outside the stages explained in the terminal; past this, a scanner is at work.
MAX_STAGE_HINTS = 20


# -- the gateway ---------------------------------------------------------------------------------

Invoke = Callable[[str, bytes], Any]  # LambdaRuntime.invoke(name_or_arn, payload) -> InvokeResult
Echo = Callable[[str], None]
# (api name, stage, status, latency ms) of each request a stage answered: CloudWatch's
# AWS/ApiGateway metrics (cloudwatch/collectors.py ApiMetrics)
RequestMetrics = Callable[[str, str, int, float], None]


class ApiGateway:
    """Routing, validation and integration: everything between the socket and the function."""

    def __init__(self, invoke: Invoke, echo: Echo | None = None) -> None:
        self.apis: list[RestApi] = []
        self._invoke = invoke
        self._echo = echo
        self._pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="api-invoke")
        # Who may call: the principal AWS_IAM methods accept, the keys and usage plans.
        self.credentials: sigv4.LocalCredentials | None = None
        self.region = "us-east-1"
        self.usage_plans = UsagePlans()
        self._hinted: set[str] = set()  # requests outside the stages already explained
        self.metrics: RequestMetrics | None = None

    def set_access(
        self, credentials: sigv4.LocalCredentials, region: str, usage_plans: UsagePlans
    ) -> None:
        self.credentials = credentials
        self.region = region
        self.usage_plans = usage_plans

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
        millis = (time.monotonic() - started) * 1000
        self._count(request, response.status, millis)
        if self._echo is not None:
            self._echo(
                f"{request.method} {request.raw_path} -> {response.status} ({millis:.0f} ms)"
            )
            hint = self._outside_stage_hint(request, response)
            if hint is not None:
                self._echo(hint)
        return response

    def _count(self, request: HttpRequest, status: int, millis: float) -> None:
        """A request a deployed stage answered (AWS publishes no metric for the others)."""
        located = self._locate(request.raw_path) if self.metrics is not None else None
        if located is not None and located[1] in located[0].stages and self.metrics is not None:
            self.metrics(located[0].name, located[1], status, millis)

    def _outside_stage_hint(self, request: HttpRequest, response: Response) -> str | None:
        """The hint AWS cannot give (its 403 for a path outside every stage is bare), for the
        person running the local cloud: once per path, where the routes are."""
        if response.status != 403 or not self.apis:
            return None
        located = self._locate(request.raw_path)
        if located is not None and located[1] in located[0].stages:
            return None
        key = f"{request.method} {request.raw_path.split('?')[0]}"
        if key in self._hinted or len(self._hinted) >= MAX_STAGE_HINTS:
            return None
        self._hinted.add(key)
        api = located[0] if located is not None else self.apis[0]
        routes = offered_routes(api)
        stages = ", ".join(f"/{name}" for name in sorted(api.stages)) or "(none deployed)"
        return (
            f"{key} is outside the API's stage path, so API Gateway answers a bare 403 "
            f"Forbidden; the routes are under {stages}: {', '.join(routes) or '-'}"
        )

    def _handle(self, request: HttpRequest, host: str, request_id: str) -> Response:
        # Outside every stage API Gateway answers a bare 403 {"message":"Forbidden"}: the API's
        # gateway responses reach callers through a deployment, i.e. a stage (a changed one
        # needs a redeploy); docs/decisions.md "A request outside the stage path".
        located = self._locate(request.raw_path)
        if located is None:
            return gateway_response(None, "ACCESS_DENIED", request_id)
        api, stage, path = located
        if stage not in api.stages:
            return gateway_response(None, "ACCESS_DENIED", request_id)
        matched = api.match(path)
        method = api.method(matched[0].id, request.method) if matched else None
        if matched is None or method is None:
            return gateway_response(api, "MISSING_AUTHENTICATION_TOKEN", request_id)
        resource, path_parameters = matched
        # API Gateway authorizes before it validates: a refused caller learns nothing more.
        refused = self._authorize(api, stage, method, request)
        if refused is not None:
            return gateway_response(
                api,
                refused.response_type,
                request_id,
                message=refused.message,
                error_type=refused.error_type,
            )
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

    def _authorize(
        self, api: RestApi, stage: str, method: ApiMethod, request: HttpRequest
    ) -> sigv4.Refusal | None:
        if method.authorization == "AWS_IAM":
            if self.credentials is None:  # no principal configured: nobody can sign
                return sigv4.Refusal(
                    "INVALID_SIGNATURE", sigv4.INVALID_TOKEN, "UnrecognizedClientException"
                )
            refused = sigv4.verify(request, credentials=self.credentials, region=self.region)
            if refused is not None:
                return refused
        if method.api_key_required:
            return self.usage_plans.check(api.id, stage, request.header(API_KEY_HEADER))
        return None

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
                if required and not parameter_present(name, request, path_parameters)
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
