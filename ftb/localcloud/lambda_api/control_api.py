"""Lambda's function API for the runtime's functions, as the AWS endpoint serves it: Invoke,
GetFunction, ListFunctions, Get/UpdateFunctionConfiguration. The other read operations of a
function (versions, aliases, tags, policy, ...) are in `function_api.py` beside it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import sys
import threading
import traceback
import uuid
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from ftb.localcloud.lambda_api.code_package import CodePackages
from ftb.localcloud.lambda_runtime.errors import (
    InvalidParameterValueError,
    InvalidRequestContentError,
    LambdaServiceError,
    PreconditionFailedError,
    ValidationError,
)
from ftb.localcloud.lambda_runtime.model import DEFAULT_ACCOUNT_ID, LATEST, FunctionSpec
from ftb.localcloud.lambda_runtime.runtime import LambdaRuntime

_FUNCTIONS = re.compile(r"^/2015-03-31/functions/?$")
_FUNCTION = re.compile(
    r"^/2015-03-31/functions/(?P<name>[^/]+?)(?P<what>/invocations|/configuration)?/?$"
)
# UpdateFunctionConfiguration: what the local runtime can change, and Lambda's own limits.
_UPDATABLE = {"Environment", "Timeout", "MemorySize"}
_VARIABLE_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]+$")
_RESERVED_VARIABLES = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_DEFAULT_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_REGION",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "LAMBDA_RUNTIME_DIR",
        "LAMBDA_TASK_ROOT",
        "TZ",
    }
)
_ENVIRONMENT_MAX_BYTES = 4096
# GetFunction's Code.Location: AWS answers a presigned S3 URL valid 10 minutes; locally the
# endpoint itself serves the package at this path (plain GET, no signature).
CODE_PATH_PREFIX = "/_ftb/lambda/code/"
_CODE_PATH = re.compile(r"^/_ftb/lambda/code/(?P<name>[^/]+)\.zip$")


def lambda_timestamp(moment: datetime) -> str:
    """Lambda's LastModified format in FunctionConfiguration: `2024-05-01T12:00:00.000+0000`."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


class FunctionFacts(Protocol):
    """What the template says of each function (by name) beyond the runtime's spec."""

    tags: dict[str, dict[str, str]]
    roles: dict[str, str]


class LambdaControlApi:
    """The routes of Lambda's function API that the local runtime answers."""

    operations = frozenset(
        {
            "ListFunctions",
            "GetFunction",
            "GetFunctionConfiguration",
            "UpdateFunctionConfiguration",
            "Invoke",
        }
    )

    def __init__(self, runtime: LambdaRuntime, packages: CodePackages | None = None) -> None:
        self.runtime = runtime
        self.packages = packages or CodePackages()
        # Set once the template is provisioned (ftb/localcloud/control_plane.py).
        self.facts: FunctionFacts | None = None
        # UpdateFunctionConfiguration is read (RevisionId), check, replace: one at a time.
        self._update_lock = threading.Lock()

    def handle(self, request: Request) -> Response | None:
        """Lambda's function API for the runtime's functions; None: let moto answer."""
        runtime = self.runtime
        try:
            if _FUNCTIONS.match(request.path):
                if request.method != "GET":
                    return None
                return _json({"Functions": [self.configuration(s) for s in runtime.functions()]})
            match = _FUNCTION.match(request.path)
            if match is None:
                return None
            name = match["name"]
            if request.args.get("Qualifier"):
                name = f"{name}:{request.args['Qualifier']}"
            what = match["what"]
            if what == "/invocations" and request.method == "POST":
                return self._invoke(request, name)
            if what is None and request.method == "GET":
                spec = runtime.get(name)
                document: dict[str, Any] = {
                    "Configuration": self.configuration(spec),
                    "Code": {"RepositoryType": "S3", "Location": self.code_location(spec)},
                }
                tags = self.facts.tags.get(spec.name) if self.facts else None
                if tags:
                    document["Tags"] = dict(tags)
                if spec.reserved_concurrency is not None:
                    document["Concurrency"] = {
                        "ReservedConcurrentExecutions": spec.reserved_concurrency
                    }
                return _json(document)
            if what == "/configuration" and request.method == "GET":
                return _json(self.configuration(runtime.get(name)))
            if what == "/configuration" and request.method == "PUT":
                return self._update_configuration(request, name)
            return None
        except LambdaServiceError as error:
            return _service_error(error)
        except Exception as error:  # a bug of ours: answer like a Lambda service error
            traceback.print_exc()
            return _service_error(LambdaServiceError(f"Local Lambda runtime error: {error!r}"))

    def code_location(self, spec: FunctionSpec) -> str:
        return f"{self.runtime.endpoint_url}{CODE_PATH_PREFIX}{quote(spec.name, safe='')}.zip"

    def download(self, request: Request) -> Response | None:
        """GET of a `code_location`: the function's deployment zip."""
        match = _CODE_PATH.match(request.path)
        if match is None or request.method not in {"GET", "HEAD"}:
            return None
        try:
            spec = self.runtime.get(match["name"])
        except LambdaServiceError:
            return Response("no such function package\n", status=404, content_type="text/plain")
        package = self.packages.get(spec.code_dir)
        return Response(package.data, status=200, content_type="application/zip")

    def _invoke(self, request: Request, name: str) -> Response:
        invocation_type = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        result = self.runtime.invoke(
            name,
            request.get_data(),
            invocation_type=invocation_type,
            client_context=request.headers.get("X-Amz-Client-Context"),
        )
        headers = {
            "Content-Type": "application/json",
            "X-Amzn-RequestId": str(uuid.uuid4()),
            "X-Amz-Executed-Version": result.executed_version,
        }
        if result.function_error:
            headers["X-Amz-Function-Error"] = result.function_error
        return Response(result.payload, status=result.status_code, headers=headers)

    def _update_configuration(self, request: Request, name: str) -> Response:
        """UpdateFunctionConfiguration: Environment (replaced whole, as Lambda does), Timeout,
        MemorySize. The runtime replaces the function: busy workers finish with the old
        configuration, new invocations get the new one (a restart would lose moto's state)."""
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError:
            raise InvalidRequestContentError("Could not parse request body into json") from None
        if not isinstance(body, dict):
            raise InvalidRequestContentError("The request body must be a JSON object")
        unsupported = sorted(set(body) - _UPDATABLE - {"FunctionName", "RevisionId"})
        if unsupported:
            raise InvalidParameterValueError(
                f"The local Lambda runtime cannot change {', '.join(unsupported)}; "
                f"it can change {', '.join(sorted(_UPDATABLE))}"
            )
        with self._update_lock:
            return self._apply_update(self.runtime.get(name), body)

    def _apply_update(self, spec: FunctionSpec, body: dict[str, Any]) -> Response:
        revision = body.get("RevisionId")
        if revision is not None and revision != _revision_id(spec):
            raise PreconditionFailedError(
                "The Revision Id provided does not match the latest Revision Id. "
                "Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
            )
        changes: dict[str, Any] = {}
        if "Environment" in body:
            changes["environment"] = _environment_variables(body["Environment"])
        if "Timeout" in body:
            changes["timeout_seconds"] = _bounded_int(body["Timeout"], "timeout", 1, 900)
        if "MemorySize" in body:
            changes["memory_mb"] = _bounded_int(body["MemorySize"], "memorySize", 128, 10240)
        updated = dataclasses.replace(spec, **changes)
        if updated != spec:
            self.runtime.register(updated)
        return _json(self.configuration(updated))

    def configuration(self, spec: FunctionSpec) -> dict[str, Any]:
        package = self.packages.get(spec.code_dir)
        return {
            "FunctionName": spec.name,
            "FunctionArn": spec.arn,
            "Runtime": f"python{sys.version_info[0]}.{sys.version_info[1]}",
            "Role": (self.facts.roles.get(spec.name) if self.facts else None)
            or f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/{spec.name}-local",
            "Handler": spec.handler,
            "CodeSize": package.size,
            "CodeSha256": package.sha256,
            "LastModified": lambda_timestamp(self.runtime.last_modified(spec.name)),
            "Timeout": int(spec.timeout_seconds)
            if float(spec.timeout_seconds).is_integer()
            else spec.timeout_seconds,
            "MemorySize": spec.memory_mb,
            "Version": LATEST,
            "Description": "",
            "TracingConfig": {"Mode": "PassThrough"},
            "EphemeralStorage": {"Size": 512},
            "Environment": {"Variables": dict(spec.environment)},
            "PackageType": "Zip",
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "RevisionId": _revision_id(spec),
            "Architectures": ["x86_64" if os.uname().machine == "x86_64" else "arm64"],
            "LoggingConfig": {"LogFormat": "Text", "LogGroup": spec.log_group_name},
        }


def _revision_id(spec: FunctionSpec) -> str:
    """A RevisionId derived from what UpdateFunctionConfiguration can change: read-modify-write
    callers (ftb set-env) pass it back, so a concurrent change is refused, not overwritten."""
    state = json.dumps(
        [spec.environment, spec.timeout_seconds, spec.memory_mb, spec.handler], sort_keys=True
    )
    return str(uuid.UUID(hashlib.sha256(state.encode()).hexdigest()[:32]))


def _environment_variables(environment: Any) -> dict[str, str]:
    """Lambda's rules for Environment.Variables; the given map replaces the old one whole."""
    if not isinstance(environment, dict):
        raise InvalidRequestContentError("Environment must be an object")
    variables = environment.get("Variables") or {}
    if not isinstance(variables, dict) or not all(
        isinstance(value, str) for value in variables.values()
    ):
        raise InvalidRequestContentError("Environment.Variables must map names to strings")
    bad = sorted(key for key in variables if not _VARIABLE_NAME.fullmatch(str(key)))
    if bad:
        raise ValidationError(
            "1 validation error detected: Value at 'environment.variables' failed to satisfy "
            "constraint: Map keys must satisfy constraint: [Member must satisfy regular "
            f"expression pattern: [a-zA-Z]([a-zA-Z0-9_])+] ({', '.join(bad)})"
        )
    reserved = sorted(set(variables) & _RESERVED_VARIABLES)
    if reserved:
        raise InvalidParameterValueError(
            "Lambda was unable to configure your environment variables because the "
            "environment variables you have provided contains reserved keys that are currently "
            f"not supported for modification. Reserved keys used in this request: "
            f"{', '.join(reserved)}"
        )
    measured = json.dumps(variables, separators=(",", ":"))
    if len(measured.encode()) > _ENVIRONMENT_MAX_BYTES:
        raise InvalidParameterValueError(
            "Lambda was unable to configure your environment variables because the "
            "environment variables you have provided exceeded the 4KB limit."
        )
    return dict(variables)


def _bounded_int(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(
            f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
            f"constraint: Member must have value between {low} and {high}"
        )
    return value


def _json(document: Any, status: int = 200) -> Response:
    return Response(json.dumps(document), status=status, content_type="application/json")


def _service_error(error: LambdaServiceError) -> Response:
    # Lambda's error shape (REST-JSON, as endpoint/calls.py's rest_json_error, which this
    # module cannot import: the endpoint package imports the runtime): the code in
    # x-amzn-ErrorType, where botocore reads it.
    kind = "User" if error.status_code < 500 else "Service"
    response = _json({"Type": kind, "message": error.message}, error.status_code)
    response.headers["x-amzn-ErrorType"] = error.error_type
    response.headers["X-Amzn-RequestId"] = str(uuid.uuid4())
    return response
