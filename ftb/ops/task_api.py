"""The task API over HTTP, with the standard library only (no extra dependency).

Requests carry the target's authorization (`auth`, ftb/ops/api_auth.py: a SigV4 signature or
an API key), applied afresh to each attempt.

Throttling (429), API Gateway's 5xx and connection failures are retried with exponential
backoff and full jitter: POST /tasks is idempotent (same taskId and payload), so a retry can
never start a task twice.
"""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ftb.ops.api_auth import Authorize

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_ATTEMPTS = 4
DEFAULT_TIMEOUT_SECONDS = 30.0
_BACKOFF_BASE_SECONDS = 0.25
_BACKOFF_CAP_SECONDS = 5.0


@dataclass
class HttpAnswer:
    status: int  # 0: no HTTP answer at all (connection refused, timeout...)
    body: Any  # parsed JSON, or the raw text
    attempts: int = 1
    transport_error: str | None = None
    refused: bool = False  # the connection was refused: nothing listens there (any more)

    @property
    def message(self) -> str:
        """What the API said was wrong, in one line."""
        if self.transport_error:
            return self.transport_error
        if isinstance(self.body, dict):
            text = str(self.body.get("message") or self.body.get("Message") or "")
            errors = self.body.get("errors")
            if isinstance(errors, list) and errors:
                details = "; ".join(
                    f"{error.get('field', '?')}: {error.get('message', '')}"
                    if isinstance(error, dict)
                    else str(error)
                    for error in errors
                )
                text = f"{text} ({details})" if text else details
            return text or json.dumps(self.body, sort_keys=True)[:200]
        return str(self.body or "")[:200]


def _decode(raw: bytes) -> Any:
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def _once(request: urllib.request.Request, timeout: float) -> HttpAnswer:
    try:
        # request() admits only http(s) URLs: no file:// or custom scheme reaches urlopen.
        with urllib.request.urlopen(request, timeout=timeout) as response:  # nosec B310
            return HttpAnswer(status=response.status, body=_decode(response.read()))
    except urllib.error.HTTPError as error:
        return HttpAnswer(status=error.code, body=_decode(error.read()))
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as error:
        reason = getattr(error, "reason", error)
        return HttpAnswer(
            status=0,
            body=None,
            transport_error=f"no answer: {reason}",
            refused=isinstance(reason, ConnectionRefusedError),
        )


def request(
    method: str,
    url: str,
    body: Any = None,
    *,
    attempts: int = DEFAULT_ATTEMPTS,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    auth: Authorize | None = None,
) -> HttpAnswer:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url}")
    data = None
    headers = {"Accept": "application/json"}
    if body is not None:
        data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        headers["Content-Type"] = "application/json"
    answer = HttpAnswer(status=0, body=None)
    for attempt in range(1, attempts + 1):
        sent = auth(method, url, headers, data) if auth is not None else headers
        req = urllib.request.Request(url, data=data, method=method, headers=sent)
        answer = _once(req, timeout)
        answer.attempts = attempt
        if answer.status not in RETRYABLE_STATUSES and answer.status != 0:
            return answer
        if attempt < attempts:
            ceiling = min(_BACKOFF_CAP_SECONDS, _BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
            time.sleep(random.uniform(0, ceiling))
    return answer


def task_url(tasks_endpoint: str, task_id: str) -> str:
    return f"{tasks_endpoint.rstrip('/')}/{quote(task_id, safe='')}"
