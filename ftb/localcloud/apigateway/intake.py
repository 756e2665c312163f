"""Intake control for a graceful stop: once closed, the API refuses new requests the way API
Gateway answers when its backend cannot take them, and the requests under way can finish.

API Gateway answers 503 Service Unavailable when the integration cannot accept requests
(AWS Knowledge Center, "How do I troubleshoot 5xx errors for API Gateway?": "503 service
unavailable ... the backend server is overloaded beyond capacity and can't process new client
requests, or is under temporary maintenance"); its own error bodies are `{"message": ...}`
with an `x-amzn-ErrorType` header. Clients retry a 503 with backoff, so nothing they send
during the stop is accepted and then lost.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

from ftb.localcloud.apigateway.responses import Response


class IntakeGate:
    """Wraps the gateway the API server calls: counts requests under way, refuses when closed."""

    def __init__(self, gateway: Any) -> None:
        self.gateway = gateway
        self._condition = threading.Condition()
        self._open = True
        self._under_way = 0

    @property
    def is_open(self) -> bool:
        return self._open

    def handle(self, request: Any, host: str) -> Response:
        with self._condition:
            if not self._open:
                return service_unavailable()
            self._under_way += 1
        try:
            return self.gateway.handle(request, host)  # type: ignore[no-any-return]
        finally:
            with self._condition:
                self._under_way -= 1
                self._condition.notify_all()

    def close_intake(self) -> None:
        with self._condition:
            self._open = False

    def wait_idle(self, timeout: float) -> int:
        """Wait for the requests under way to finish; returns how many are left."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while self._under_way:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._condition.wait(remaining)
            return self._under_way

    def close(self) -> None:
        self.close_intake()
        self.gateway.close()


def service_unavailable() -> Response:
    request_id = str(uuid.uuid4())
    return Response(
        status=503,
        headers=[
            ("Content-Type", "application/json"),
            ("x-amzn-ErrorType", "ServiceUnavailableException"),
            ("x-amzn-RequestId", request_id),
        ],
        body=json.dumps({"message": "Service Unavailable"}).encode("utf-8"),
    )
