"""The endpoint's own clients, answered in process: no socket, no HTTP parsing, no thread.

`ftb local` calls its own endpoint all the time: the Step Functions engine invokes a function
for every Task state, the SQS pollers receive and delete, the log shipper puts log events,
provisioning creates everything. Over HTTP each of those calls wakes a connection thread and
parses headers with http.server on one side and urllib3 on the other, all under the GIL that
the endpoint's own work needs (a GIL profile of 400 tasks: the HTTP server's threads held it
in 48 % of the samples, the application they served in 41 %).

botocore lets a client answer a prepared request itself through its `before-send` event (moto's
decorator mode answers every request that way). Here the endpoint's WSGI application answers
it, the very function the server calls, so every handler, refusal, fault and snapshot gate
applies exactly as to a request from a socket. Function workers are other processes: they
keep calling over HTTP, as functions call AWS.
"""

from __future__ import annotations

import io
import sys
import traceback
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

from botocore.awsrequest import AWSPreparedRequest, AWSResponse, HeadersDict

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _RawBody(io.BytesIO):
    """What botocore reads a response body from (`stream()`, as urllib3's response has)."""

    def stream(self, **_: Any) -> Iterable[bytes]:
        chunk = self.read()
        while chunk:
            yield chunk
            chunk = self.read()


def _latin1(text: str) -> str:
    # PEP 3333: environ strings carry the request's bytes as latin-1 (werkzeug does the same).
    return text.encode("utf-8").decode("latin-1")


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    return body.read()  # type: ignore[no-any-return]  # a file-like body (streaming uploads)


class InProcessTransport:
    """Answers the prepared requests of attached clients with `app`, in the caller's thread."""

    def __init__(self, app: WsgiApp, host: str, port: int) -> None:
        self.app = app
        self.host = host
        self.port = port

    def attach(self, client: Any) -> Any:
        """Route `client`'s requests to the application; returns the client."""
        client.meta.events.register("before-send", self._send)
        return client

    def environ(self, request: AWSPreparedRequest) -> dict[str, Any]:
        """The WSGI environ werkzeug's server would build for this request."""
        url = urlsplit(request.url)
        body = _body_bytes(request.body)
        target = url.path + (f"?{url.query}" if url.query else "")
        environ: dict[str, Any] = {
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": url.scheme or "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": _latin1(unquote(url.path)),
            "QUERY_STRING": _latin1(url.query),
            "REQUEST_URI": _latin1(target),
            "RAW_URI": _latin1(target),
            "REMOTE_ADDR": "127.0.0.1",
            "REMOTE_PORT": 0,
            "SERVER_NAME": self.host,
            "SERVER_PORT": str(self.port),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_LENGTH": str(len(body)),
        }
        for name, value in request.headers.items():
            if "_" in name:  # werkzeug's server drops these too (WSGI cannot tell - from _)
                continue
            key = name.upper().replace("-", "_")
            text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ[key] = text
            else:
                environ[f"HTTP_{key}"] = text
        environ.setdefault("HTTP_HOST", url.netloc)
        environ["CONTENT_LENGTH"] = str(len(body))
        return environ

    def _send(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        answer: dict[str, Any] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            answer["status"] = int(status.split(" ", 1)[0])
            answer["headers"] = headers
            return lambda data: None  # the legacy write(); moto and werkzeug never use it

        try:
            chunks = self.app(self.environ(request), start_response)
            try:
                body = b"".join(chunks)
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
        except Exception:  # what werkzeug's server does with an application's exception
            traceback.print_exc(file=sys.stderr)
            answer = {"status": 500, "headers": [("Content-Type", "text/plain")]}
            body = b"Internal Server Error"
        # AWSResponse keeps its headers in a HeadersDict built from these pairs.
        headers = HeadersDict(answer["headers"])
        return AWSResponse(request.url, answer["status"], headers, _RawBody(body))  # type: ignore[arg-type]
