"""The read operations on a function's sub-resources that consoles call for each function:
ListVersionsByFunction, ListAliases, ListTags, GetPolicy, GetFunctionConcurrency, and the
not-found answers of GetFunctionUrlConfig and GetFunctionEventInvokeConfig (the stack has no
function URL and no asynchronous invocation configuration), with their List variants.

Routes and response codes: botocore's Lambda service model (the AWS API's own definition).
Not-found: Lambda answers 404 `ResourceNotFoundException` "The resource you requested does not
exist." for a function without a policy or a URL, and "The function <arn> doesn't have an
EventInvokeConfig" for GetFunctionEventInvokeConfig.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from werkzeug.wrappers import Response

from ftb.localcloud.endpoint.calls import AwsCall, rest_json_error, rest_json_response
from ftb.localcloud.lambda_api.function_resources import FunctionResources
from ftb.localcloud.lambda_runtime import FunctionSpec, LambdaRuntime, LambdaServiceError

_NAME = r"(?P<name>[^/]+)"
_ROUTES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"^/2015-03-31/functions/{_NAME}/versions/?$"), "ListVersionsByFunction"),
    (re.compile(rf"^/2015-03-31/functions/{_NAME}/aliases/?$"), "ListAliases"),
    (re.compile(rf"^/2015-03-31/functions/{_NAME}/policy/?$"), "GetPolicy"),
    (re.compile(rf"^/2019-09-30/functions/{_NAME}/concurrency/?$"), "GetFunctionConcurrency"),
    (
        re.compile(rf"^/2019-09-30/functions/{_NAME}/provisioned-concurrency/?$"),
        "ListProvisionedConcurrencyConfigs",
    ),
    (re.compile(rf"^/2021-10-31/functions/{_NAME}/url/?$"), "GetFunctionUrlConfig"),
    (re.compile(rf"^/2021-10-31/functions/{_NAME}/urls/?$"), "ListFunctionUrlConfigs"),
    (
        re.compile(rf"^/2019-09-25/functions/{_NAME}/event-invoke-config/?$"),
        "GetFunctionEventInvokeConfig",
    ),
    (
        re.compile(rf"^/2019-09-25/functions/{_NAME}/event-invoke-config/list/?$"),
        "ListFunctionEventInvokeConfigs",
    ),
    (re.compile(r"^/2017-03-31/tags/(?P<name>.+)$"), "ListTags"),
]
_NOT_FOUND = "The resource you requested does not exist."

Configuration = Callable[[FunctionSpec], dict[str, Any]]


class FunctionSubresourceApi:
    """A service handler ("lambda"): GETs of the routes above for the runtime's functions;
    anything else (another method, another path) is left to the next handler."""

    def __init__(
        self,
        runtime: LambdaRuntime,
        resources: FunctionResources,
        configuration: Configuration,
    ) -> None:
        self.runtime = runtime
        self.resources = resources
        self.configuration = configuration

    operations = frozenset(operation for _, operation in _ROUTES)

    def handle(self, call: AwsCall) -> Response | None:
        if call.request.method != "GET":
            return None
        if call.operation is not None and call.operation not in self.operations:
            return None  # e.g. GetProvisionedConcurrencyConfig: the same path, with a Qualifier
        for pattern, operation in _ROUTES:
            match = pattern.match(call.request.path)
            if match is None:
                continue
            try:
                spec = self.runtime.get(unquote(match["name"]))
            except LambdaServiceError as error:
                return rest_json_error(error.error_type, error.message, error.status_code)
            answer: Callable[[FunctionSpec, AwsCall], Response] = getattr(self, f"_{operation}")
            return answer(spec, call)
        return None

    # -- operations (named as the API names them) ----------------------------------------

    def _ListVersionsByFunction(self, spec: FunctionSpec, call: AwsCall) -> Response:
        # No version was ever published: only $LATEST (the function's current configuration).
        return rest_json_response({"Versions": [self.configuration(spec)]})

    def _ListAliases(self, spec: FunctionSpec, call: AwsCall) -> Response:
        return rest_json_response({"Aliases": []})

    def _ListTags(self, spec: FunctionSpec, call: AwsCall) -> Response:
        return rest_json_response({"Tags": dict(self.resources.tags.get(spec.name, {}))})

    def _GetPolicy(self, spec: FunctionSpec, call: AwsCall) -> Response:
        statements = self.resources.statements.get(spec.name)
        if not statements:
            return rest_json_error("ResourceNotFoundException", _NOT_FOUND, 404)
        policy = {"Version": "2012-10-17", "Id": "default", "Statement": statements}
        text = json.dumps(policy, separators=(",", ":"))
        revision = str(uuid.UUID(hashlib.sha256(text.encode()).hexdigest()[:32]))
        return rest_json_response({"Policy": text, "RevisionId": revision})

    def _GetFunctionConcurrency(self, spec: FunctionSpec, call: AwsCall) -> Response:
        # Without reserved concurrency Lambda answers an empty document.
        if spec.reserved_concurrency is None:
            return rest_json_response({})
        return rest_json_response({"ReservedConcurrentExecutions": spec.reserved_concurrency})

    def _ListProvisionedConcurrencyConfigs(self, spec: FunctionSpec, call: AwsCall) -> Response:
        return rest_json_response({"ProvisionedConcurrencyConfigs": []})

    def _GetFunctionUrlConfig(self, spec: FunctionSpec, call: AwsCall) -> Response:
        return rest_json_error("ResourceNotFoundException", _NOT_FOUND, 404)

    def _ListFunctionUrlConfigs(self, spec: FunctionSpec, call: AwsCall) -> Response:
        return rest_json_response({"FunctionUrlConfigs": []})

    def _GetFunctionEventInvokeConfig(self, spec: FunctionSpec, call: AwsCall) -> Response:
        qualifier = call.request.args.get("Qualifier") or "$LATEST"
        return rest_json_error(
            "ResourceNotFoundException",
            f"The function {spec.arn}:{qualifier} doesn't have an EventInvokeConfig",
            404,
        )

    def _ListFunctionEventInvokeConfigs(self, spec: FunctionSpec, call: AwsCall) -> Response:
        return rest_json_response({"FunctionEventInvokeConfigs": []})
