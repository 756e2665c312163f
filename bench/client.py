"""The benchmark's HTTP client: every POST /tasks of the benchmark goes through `post_json`.

One function sends a request, so that request signing (SigV4, when the local API requires
it) is added in one place. Each client thread keeps one HTTP/1.1 connection open, as a real
client's connection pool does.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from botocore.credentials import Credentials

from ftb.ops.api_auth import ApiKeyHeader, Authorize, SigV4Signer
from infra import names

TIMEOUT_SECONDS = 60.0


def authorizer(state: dict[str, Any]) -> Authorize | None:
    """What `ftb submit` sends to the local cloud that wrote `state`: a SigV4 signature with
    the local credentials (apiAuth iam, the default), the generated API key, or nothing."""
    outputs = state.get("outputs") or {}
    mode = outputs.get(names.OUT_API_AUTHORIZATION, names.API_AUTH_NONE)
    if mode == names.API_AUTH_IAM:
        credentials = state.get("credentials") or {}
        local = Credentials(credentials["accessKeyId"], credentials["secretAccessKey"])
        return SigV4Signer(local.get_frozen_credentials, state["region"])
    if mode == names.API_AUTH_API_KEY:
        keys = state.get("apiKeys") or {}
        return ApiKeyHeader(keys[outputs[names.OUT_API_KEY_ID]])
    return None


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    seconds: float  # from the first byte sent to the last byte read


class TaskClient:
    """POSTs to one URL over a connection per thread (reopened after an error)."""

    def __init__(self, url: str, authorize: Authorize | None = None) -> None:
        self.url = url
        self.authorize = authorize
        split = urlsplit(url)
        self.host = split.hostname or "127.0.0.1"
        self.port = split.port or 80
        self.path = split.path or "/"
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT_SECONDS)
            self._local.connection = connection
        return connection

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    def post_json(self, document: Any) -> Answer:
        """POST `document` as JSON: the one place a request leaves the benchmark."""
        body = json.dumps(document).encode("utf-8")
        headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
        started = time.perf_counter()
        if self.authorize is not None:  # signed as a real client signs: per request
            headers = self.authorize("POST", self.url, headers, body)
        for attempt in (1, 2):  # a kept-alive connection the server closed: reopen once
            connection = self._connection()
            try:
                connection.request("POST", self.path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
                return Answer(response.status, data, time.perf_counter() - started)
            except (ConnectionError, http.client.HTTPException, OSError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def submit(self, task_id: str, payload: dict[str, Any]) -> Answer:
        return self.post_json({"taskId": task_id, "payload": payload})
