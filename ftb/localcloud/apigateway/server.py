"""The local API's HTTP server in front of `ApiGateway`: werkzeug's threaded WSGI server.

werkzeug reads the request (chunked bodies included), bounds the body, and drains what a
refused client is still sending so that it reads the answer instead of a reset connection.
What stays here is what API Gateway answers on its own, always as JSON: 413 for a body over
10 MB, 400 for a Content-Length that is not a number or a malformed chunked body, and the
refusals of the HTTP layer itself (431 for oversized headers, 400 for a bad request line).
Every method reaches the gateway (TRACE and made-up ones get its 403, never a 501).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wsgi import get_input_stream

from ftb.localcloud.apigateway.proxy import HttpRequest
from ftb.localcloud.apigateway.responses import Response
from ftb.localcloud.apigateway.routing import ApiGateway

# API Gateway refuses a body over 10 MB (413) before routing it anywhere.
MAX_REQUEST_BODY_BYTES = 10 * 1024 * 1024
_TOO_LONG = f"HTTP content length exceeded {MAX_REQUEST_BODY_BYTES} bytes."
# The request as received (werkzeug's environ has the path percent-decoded and header names
# upper-cased; the proxy event carries them as the client sent them).
_RAW_PATH = "ftb.raw_path"
_RAW_HEADERS = "ftb.raw_headers"
# Headers of the answer that the server itself owns.
_FRAMING_HEADERS = frozenset({"content-length", "connection", "transfer-encoding"})

StartResponse = Callable[..., Any]


class ApiServer:
    """A threaded HTTP server in front of `ApiGateway`. Bound at construction (port 0 = any
    free port), so the URL is known before the stack is provisioned; serving starts later."""

    def __init__(self, gateway: ApiGateway, host: str = "127.0.0.1", port: int = 3000) -> None:
        self.gateway = gateway
        self._host = host
        self._server: BaseWSGIServer = make_server(
            host, port, self._wsgi, threaded=True, request_handler=_RequestHandler
        )
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # shutdown() waits for the next poll
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

    def _wsgi(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            response = self._respond(environ)
        except Exception as error:  # API Gateway always answers; never drop the connection
            response = _error(500, f"Internal server error: {error!r}")
        status = response.status
        headers = [(k, v) for k, v in response.headers if k.lower() not in _FRAMING_HEADERS]
        headers.append(("Content-Length", str(len(response.body))))
        start_response(f"{status} {_reason(status)}", headers)
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [response.body]

    def _respond(self, environ: dict[str, Any]) -> Response:
        try:
            body = _body(environ)
        except _BodyRejected as rejected:
            return _error(rejected.status, rejected.message)
        split = urlsplit(environ[_RAW_PATH])
        headers: list[tuple[str, str]] = environ[_RAW_HEADERS]
        request = HttpRequest(
            method=environ["REQUEST_METHOD"],
            raw_path=split.path,
            query=parse_qsl(split.query, keep_blank_values=True),
            headers=headers,
            body=body,
            source_ip=environ["REMOTE_ADDR"],
            protocol=environ["SERVER_PROTOCOL"],
            raw_query=split.query,
        )
        host = next((value for key, value in headers if key.lower() == "host"), "") or "localhost"
        return self.gateway.handle(request, host)


def _body(environ: dict[str, Any]) -> bytes:
    """The request body, read by werkzeug (dechunked, bounded at 10 MB)."""
    if not environ.get("wsgi.input_terminated"):  # not chunked: Content-Length frames it
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise _BodyRejected(400, "Content-Length is not a number") from None
        if length > MAX_REQUEST_BODY_BYTES:
            raise _BodyRejected(413, _TOO_LONG)  # werkzeug drains the rest after the answer
        if length <= 0:
            return b""
    try:
        stream = get_input_stream(environ, max_content_length=MAX_REQUEST_BODY_BYTES)
        return stream.read()
    except RequestEntityTooLarge:
        raise _BodyRejected(413, _TOO_LONG) from None
    except ClientDisconnected:
        raise _BodyRejected(400, "The request body ended before its Content-Length") from None
    except OSError:  # werkzeug's DechunkedInput: a bad chunk header or size
        raise _BodyRejected(400, "Malformed chunked request body") from None


class _RequestHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ftb-local-apigateway"

    def make_environ(self) -> dict[str, Any]:
        environ: dict[str, Any] = super().make_environ()
        environ[_RAW_PATH] = self.path
        environ[_RAW_HEADERS] = list(self.headers.items())
        return environ

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The HTTP layer's own refusals (oversized headers, a bad request line) as JSON, like
        every other answer of the gateway, not as an HTML page."""
        body = json.dumps({"message": message or _reason(code)}).encode("utf-8")
        self.send_response(code, _reason(code))
        self.send_header("Content-Type", "application/json")
        self.send_header("Connection", "close")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (204, 205, 304):
            self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return  # the gateway logs requests

    def log_error(self, format: str, *args: Any) -> None:
        return

    def log_message(self, format: str, *args: Any) -> None:
        return


class _BodyRejected(Exception):
    """A request body refused before it is read in full."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _error(status: int, message: str) -> Response:
    body = json.dumps({"message": message}).encode("utf-8")
    return Response(status=status, headers=[("Content-Type", "application/json")], body=body)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
