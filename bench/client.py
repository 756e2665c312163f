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

TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    seconds: float  # from the first byte sent to the last byte read


class TaskClient:
    """POSTs to one URL over a connection per thread (reopened after an error)."""

    def __init__(self, url: str) -> None:
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
