"""The local AWS endpoint: moto's server plus the Lambda Invoke API of the local runtime.

One threaded HTTP server, one port (4566 by default, like LocalStack, so `--endpoint-url`
habits carry over). Requests for Lambda's function API (Invoke, GetFunction, ListFunctions,
Get/UpdateFunctionConfiguration) go to the `LambdaRuntime`; everything else (SQS, Step
Functions, DynamoDB, CloudWatch Logs, ...) to moto's server application, in this process.

moto's Step Functions engine runs the real ASL when `execute_state_machine` is on. Its
`lambda:invoke` and `sqs:sendMessage` tasks call back to http://localhost:$MOTO_PORT with
boto3, so MOTO_PORT must name this server before any execution starts; those callbacks
arrive here like any client's (the server is threaded: an execution thread waiting for a
function does not block anyone).
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import json
import logging
import os
import re
import sys
import threading
import traceback
import uuid
from collections.abc import Iterable
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from ftb.localcloud.lambda_runtime import (
    DEFAULT_ACCOUNT_ID,
    LATEST,
    FunctionSpec,
    InvalidParameterValueError,
    InvalidRequestContentError,
    LambdaRuntime,
    LambdaServiceError,
    ResourceNotFoundError,
)

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
_CREDENTIAL_SERVICE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/(?P<service>[^/]+)/")
_ENDPOINTS_STARTED: list[AwsEndpoint] = []
# What the first endpoint of the process changed there (moto's Step Functions section, MOTO_PORT),
# put back when the last one stops: in-process users (tests) must not inherit the engine.
_PROCESS_STATE_BEFORE: dict[str, Any] = {}


def enable_step_functions_execution() -> None:
    """Make moto's Step Functions run state machines (its parser backend), process-wide."""
    from moto.core.config import default_user_config

    # Replace the section (not mutate it): mock_aws restores a shallow copy of this dict.
    default_user_config["stepfunctions"] = {"execute_state_machine": True}
    # The engine logs every Fail state and caught task error at ERROR level; here a failing
    # task is the normal case and the execution history holds the details. Unless someone
    # configured that logger, keep it quiet.
    engine_log = logging.getLogger("moto.stepfunctions.parser")
    if engine_log.level == logging.NOTSET:
        engine_log.setLevel(logging.CRITICAL)


def _restore_process_state() -> None:
    """Undo what the first endpoint changed process-wide (see `_PROCESS_STATE_BEFORE`)."""
    from moto.core.config import default_user_config

    section = _PROCESS_STATE_BEFORE.pop("stepfunctions", None)
    if section is None:
        default_user_config.pop("stepfunctions", None)  # type: ignore[misc]
    else:
        default_user_config["stepfunctions"] = section
    port = _PROCESS_STATE_BEFORE.pop("MOTO_PORT", None)
    if port is None:
        os.environ.pop("MOTO_PORT", None)
    else:
        os.environ["MOTO_PORT"] = port


def display_host(host: str) -> str:
    """The host a client should use: a server listening everywhere ("", 0.0.0.0, ::) is
    reachable on the loopback address."""
    try:
        unspecified = host == "" or ipaddress.ip_address(host).is_unspecified
    except ValueError:  # a host name
        unspecified = False
    return "127.0.0.1" if unspecified else host


class AwsEndpoint:
    def __init__(
        self,
        runtime: LambdaRuntime | None,
        host: str = "127.0.0.1",
        port: int = 4566,
        faults: Any = None,
    ) -> None:
        self.runtime = runtime
        # Fault injection (ftb/faults.py): `intercept(environ)` may answer instead of moto.
        self.faults = faults
        self.host = host
        self.port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._moto: Any = None
        # UpdateFunctionConfiguration is read (RevisionId), check, replace: one at a time.
        self._update_lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{display_host(self.host)}:{self.port}"

    def start(self) -> None:
        """Bind (port 0: a free port), then serve in a background thread; ready on return."""
        if self._server is not None:
            return
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )

        class _RequestHandler(MotoRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass  # one line per request would drown the functions' own logs

        if not _ENDPOINTS_STARTED:
            from moto.core.config import default_user_config

            _PROCESS_STATE_BEFORE.clear()
            _PROCESS_STATE_BEFORE["stepfunctions"] = default_user_config.get("stepfunctions")
            _PROCESS_STATE_BEFORE["MOTO_PORT"] = os.environ.get("MOTO_PORT")
        enable_step_functions_execution()
        self._moto = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(
            self.host, self.port, self._wsgi, threaded=True, request_handler=_RequestHandler
        )
        self.port = self._server.server_port
        # moto's workflow engine reads MOTO_PORT at each callback: set it before it can run.
        if _ENDPOINTS_STARTED:
            print(
                "[ftb] warning: a second AwsEndpoint in this process; moto's Step Functions "
                f"will call back to the newest one (port {self.port})",
                file=sys.stderr,
            )
        os.environ["MOTO_PORT"] = str(self.port)
        _ENDPOINTS_STARTED.append(self)
        if self.runtime is not None:
            self.runtime.endpoint_url = self.url
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"aws-endpoint-{self.port}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and free the port (the runtime is its owner's to shut down)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self in _ENDPOINTS_STARTED:
            _ENDPOINTS_STARTED.remove(self)
            if not _ENDPOINTS_STARTED and _PROCESS_STATE_BEFORE:
                _restore_process_state()

    # -- WSGI -----------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if self.faults is not None:
            injected = self.faults.intercept(environ)
            if injected is not None:
                return injected(environ, start_response)  # type: ignore[no-any-return]
        if (
            self.runtime is not None
            and path.startswith("/2015-03-31/functions")
            and (_signed_for(environ) in (None, "lambda"))
        ):
            response = self._lambda(Request(environ))
            if response is not None:
                return response(environ, start_response)  # type: ignore[no-any-return]
        return self._moto(environ, start_response)  # type: ignore[no-any-return]

    def _lambda(self, request: Request) -> Response | None:
        """Lambda's function API for the runtime's functions; None: let moto answer."""
        assert self.runtime is not None
        runtime = self.runtime
        try:
            if _FUNCTIONS.match(request.path):
                if request.method != "GET":
                    return None
                return _json(
                    200, {"Functions": [self._configuration(s) for s in runtime.functions()]}
                )
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
                    "Configuration": self._configuration(spec),
                    "Code": {"RepositoryType": "Local", "Location": spec.code_dir.as_uri()},
                }
                if spec.reserved_concurrency is not None:
                    document["Concurrency"] = {
                        "ReservedConcurrentExecutions": spec.reserved_concurrency
                    }
                return _json(200, document)
            if what == "/configuration" and request.method == "GET":
                return _json(200, self._configuration(runtime.get(name)))
            if what == "/configuration" and request.method == "PUT":
                return self._update_configuration(request, name)
            return None
        except LambdaServiceError as error:
            return _service_error(error)
        except Exception as error:  # a bug of ours: answer like a Lambda service error
            traceback.print_exc()
            return _service_error(LambdaServiceError(f"Local Lambda runtime error: {error!r}"))

    def _invoke(self, request: Request, name: str) -> Response:
        assert self.runtime is not None
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
        assert self.runtime is not None
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
        assert self.runtime is not None
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
        return _json(200, self._configuration(updated))

    def _configuration(self, spec: FunctionSpec) -> dict[str, Any]:
        runtime = self.runtime
        assert runtime is not None
        return {
            "FunctionName": spec.name,
            "FunctionArn": spec.arn,
            "Runtime": f"python{sys.version_info[0]}.{sys.version_info[1]}",
            "Role": f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/{spec.name}-local",
            "Handler": spec.handler,
            "CodeSize": 0,
            "Timeout": int(spec.timeout_seconds)
            if float(spec.timeout_seconds).is_integer()
            else spec.timeout_seconds,
            "MemorySize": spec.memory_mb,
            "Version": LATEST,
            "Environment": {"Variables": dict(spec.environment)},
            "PackageType": "Zip",
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "RevisionId": _revision_id(spec),
            "Architectures": ["x86_64" if os.uname().machine == "x86_64" else "arm64"],
            "LoggingConfig": {"LogFormat": "Text", "LogGroup": spec.log_group_name},
        }


class PreconditionFailedError(LambdaServiceError):
    status_code = 412
    error_type = "PreconditionFailedException"


class ValidationError(LambdaServiceError):
    status_code = 400
    error_type = "ValidationException"


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


def _signed_for(environ: dict[str, Any]) -> str | None:
    """The service a SigV4-signed request was signed for (None when unsigned)."""
    match = _CREDENTIAL_SERVICE.search(environ.get("HTTP_AUTHORIZATION", ""))
    return match["service"] if match else None


def _json(status: int, document: Any) -> Response:
    return Response(json.dumps(document), status=status, content_type="application/json")


def _service_error(error: LambdaServiceError) -> Response:
    # Lambda's error shape: the code in x-amzn-ErrorType (botocore reads it from there).
    kind = "User" if error.status_code < 500 else "Service"
    response = _json(error.status_code, {"Type": kind, "message": error.message})
    response.headers["x-amzn-ErrorType"] = error.error_type
    response.headers["X-Amzn-RequestId"] = str(uuid.uuid4())
    if isinstance(error, ResourceNotFoundError):
        response.headers["x-amzn-ErrorType"] = "ResourceNotFoundException"
    return response
