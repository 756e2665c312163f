"""The local AWS endpoint: moto's server, with our handlers answering before it.

One threaded HTTP server, one port (4566 by default, like LocalStack, so `--endpoint-url`
habits carry over). Handlers registered per service answer first (Lambda's API is
ftb/localcloud/lambda_api, registered by whoever owns the runtime); everything else (SQS,
Step Functions, DynamoDB, CloudWatch Logs, ...) goes to moto's server application, in this
process.

moto's Step Functions engine runs the real ASL when `execute_state_machine` is on. Its
`lambda:invoke` and `sqs:sendMessage` tasks call back to http://localhost:$MOTO_PORT with
boto3, so MOTO_PORT must name this server before any execution starts; those callbacks
arrive here like any client's (the server is threaded: an execution thread waiting for a
function does not block anyone).
"""

from __future__ import annotations

import ipaddress
import os
import sys
import threading
from collections.abc import Iterable
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from ftb.localcloud.endpoint.calls import ServiceHandler, identify, internal_failure
from ftb.localcloud.endpoint.in_process import InProcessTransport
from ftb.localcloud.endpoint.refusals import Refusals, name_rest_call
from ftb.localcloud.lambda_runtime import LambdaRuntime
from ftb.localcloud.moto_internals import server_app
from ftb.localcloud.moto_internals.engine_caches import answer_engine_calls_with
from ftb.localcloud.moto_internals.install import install_patches
from ftb.localcloud.moto_internals.sqs_races import receive_steps_guarded_by

_ENDPOINTS_STARTED: list[AwsEndpoint] = []
# What the first endpoint of the process changed there (moto's Step Functions section, MOTO_PORT),
# put back when the last one stops: in-process users (tests) must not inherit the engine.
_PROCESS_STATE_BEFORE: dict[str, Any] = {}

SHUTDOWN_POLL_SECONDS = 0.05


enable_step_functions_execution = server_app.enable_step_functions_execution


def _restore_process_state() -> None:
    """Undo what the first endpoint changed process-wide (see `_PROCESS_STATE_BEFORE`)."""
    server_app.set_step_functions_section(_PROCESS_STATE_BEFORE.pop("stepfunctions", None))
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
        # Fault injection (ftb/localcloud/faults): `intercept(environ)` may answer instead of moto.
        self.faults = faults
        self.host = host
        self.port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._moto: Any = None
        # Answers this process's own clients without HTTP (in_process.py); set by start().
        self.transport: InProcessTransport | None = None
        # Per service (signing name), the handlers that answer before moto, in order.
        self._handlers: dict[str, list[ServiceHandler]] = {}
        # Consulted after every service's handlers: what nobody implements is refused.
        self._last_handlers: list[ServiceHandler] = [Refusals(self.claims)]
        # A snapshot gate (ftb/localcloud/persistence/quiesce.py): calls to moto hold it shared.
        self.gate: Any = None

    def register(self, service: str, handler: ServiceHandler) -> None:
        """Answer some of `service`'s operations before moto (earlier registrations first)."""
        self._handlers.setdefault(service, []).append(handler)

    def claims(self, service: str) -> set[str]:
        """The operations `service`'s handlers declare they answer (their `operations`)."""
        claimed: set[str] = set()
        for handler in self._handlers.get(service, ()):
            claimed |= set(getattr(handler, "operations", ()))
        return claimed

    @property
    def url(self) -> str:
        return f"http://{display_host(self.host)}:{self.port}"

    def start(self) -> None:
        """Bind (port 0: a free port), then serve in a background thread; ready on return."""
        if self._server is not None:
            return
        if not _ENDPOINTS_STARTED:
            _PROCESS_STATE_BEFORE.clear()
            _PROCESS_STATE_BEFORE["stepfunctions"] = server_app.step_functions_section()
            _PROCESS_STATE_BEFORE["MOTO_PORT"] = os.environ.get("MOTO_PORT")
        enable_step_functions_execution()
        install_patches()
        self._moto = server_app.new_application()
        self._server = make_server(
            self.host,
            self.port,
            self._wsgi,
            threaded=True,
            request_handler=server_app.quiet_request_handler(),
        )
        self.port = self._server.server_port
        self.transport = InProcessTransport(self._wsgi, display_host(self.host), self.port)
        answer_engine_calls_with(self.transport)
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
            self.runtime.own_client = self.transport.attach
            self.runtime.endpoint_url = self.url
        # shutdown() waits for the serving loop's next poll: a short one keeps stops quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS},
            name=f"aws-endpoint-{self.port}",
            daemon=True,
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
            newest = _ENDPOINTS_STARTED[-1] if _ENDPOINTS_STARTED else None
            answer_engine_calls_with(newest.transport if newest is not None else None)
            if not _ENDPOINTS_STARTED and _PROCESS_STATE_BEFORE:
                _restore_process_state()

    # -- WSGI -----------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if self.faults is not None:
            injected = self.faults.intercept(environ)
            if injected is not None:
                return injected(environ, start_response)  # type: ignore[no-any-return]
        call = identify(environ)
        name_rest_call(call)  # Lambda's REST calls, by botocore's model, for every handler
        for handler in [*self._handlers.get(call.service or "", ()), *self._last_handlers]:
            try:
                response = handler.handle(call)
            except Exception as error:  # a bug of a handler: AWS's 500, never moto's answer
                response = internal_failure(call, error)
            if response is not None:
                return response(environ, start_response)  # type: ignore[no-any-return]
        gate = self.gate
        if gate is None:
            return self._moto(environ, start_response)  # type: ignore[no-any-return]
        if gate.applies(call.service, call.operation):
            with gate.shared():
                return self._moto(environ, start_response)  # type: ignore[no-any-return]
        with receive_steps_guarded_by(gate):  # a long poll holds the gate per step only
            return self._moto(environ, start_response)  # type: ignore[no-any-return]
