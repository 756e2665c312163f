"""One HTTP request sent exactly as given (http.client: nothing added behind the test's back;
urllib would set a form Content-Type on any POST body), plus the API's authorization unless
`signed=False` (tests/support/api_auth.py)."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tests.support.api_auth import authorize


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def send(
    url: str,
    method: str = "POST",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    *,
    signed: bool = True,
) -> Answer:
    """One request, exactly as given (plus Host, Content-Length and, when `signed`, the API's
    authorization: a SigV4 signature of exactly these bytes, or the API key)."""
    parts = urlsplit(url)
    headers = dict(headers or {})
    if signed:
        headers = authorize(method, url, headers, body or None)
    assert parts.hostname is not None, url
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        return Answer(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )
    finally:
        connection.close()
