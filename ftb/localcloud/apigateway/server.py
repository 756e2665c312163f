"""The local API's HTTP server in front of `ApiGateway`."""

from __future__ import annotations

import json
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ftb.localcloud.apigateway.proxy import HttpRequest
from ftb.localcloud.apigateway.routing import ApiGateway

MAX_REQUEST_BODY_BYTES = 10 * 1024 * 1024


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
