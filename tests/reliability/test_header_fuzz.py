"""Every header the local API reads, fuzzed with arbitrary bytes on the wire.

A correctly signed request is sent over a raw socket with one header's value replaced by
bytes hypothesis draws (any byte, CR and LF included, so a value can also break the header
block). The gateway reads Host, Authorization, X-Amz-Date, Date, X-Amz-Security-Token,
X-Amz-Content-SHA256, Content-Type, Content-Length, Transfer-Encoding, User-Agent and
x-api-key (ftb/localcloud/apigateway/: server.py, sigv4.py, routing.py, proxy.py); API Gateway
answers a malformed request 400 and an unauthenticated one 403, so every answer here must be
a 4xx, never a 5xx and never a dropped connection, and no request with a changed signed header
may reach the function.

Size: FTB_FUZZ_EXAMPLES cases per header (25 by default, inside `make test`; `make
reliability` runs 1,000). The figures are printed at the end of the module.
"""

from __future__ import annotations

import os
import socket
from collections import Counter
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.api_auth import authorize
from tests.support.local_cloud import LocalCloudProcess

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(600)]

_configured = os.environ.get("FTB_FUZZ_EXAMPLES", "").strip()
EXAMPLES = int(_configured) if _configured else 25
BODY = b'{"taskId":"header-fuzz","payload":{}}'
# Headers whose change must fail the signature: botocore signed them, or the declared payload
# hash no longer matches the body (the local principal has no session token, so any token is
# refused too).
MUST_REFUSE = {"host", "authorization", "x-amz-date", "content-type", "x-amz-content-sha256"}
READ_HEADERS = [
    "Host",
    "Authorization",
    "X-Amz-Date",
    "Date",
    "X-Amz-Security-Token",
    "X-Amz-Content-SHA256",
    "Content-Type",
    "Content-Length",
    "Transfer-Encoding",
    "User-Agent",
    "x-api-key",
]
_answers: Counter[tuple[str, int]] = Counter()


def raw_request(url: str, headers: list[tuple[str, bytes]], body: bytes) -> bytes:
    """The request's bytes, headers exactly as given (no encoding, no validation)."""
    parts = urlsplit(url)
    lines = [f"POST {parts.path} HTTP/1.1".encode()]
    lines += [name.encode() + b": " + value for name, value in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def status_of(url: str, request: bytes) -> int:
    """The status the server answers, or 0 when it closes or hangs without one."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as connection:
        connection.sendall(request)
        # A Content-Length larger than the body must not leave the server waiting forever.
        connection.shutdown(socket.SHUT_WR)
        try:
            status_line = connection.makefile("rb").readline()
        except TimeoutError:
            return 0
    fields = status_line.split(b" ")
    return int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else 0


@pytest.fixture(scope="module")
def signed_headers(api_cloud: LocalCloudProcess) -> Iterator[list[tuple[str, bytes]]]:
    url = api_cloud.tasks_endpoint
    headers = authorize(
        "POST", url, {"Content-Type": "application/json", "Host": urlsplit(url).netloc}, BODY
    )
    pairs = [(name, str(value).encode("latin-1")) for name, value in headers.items()]
    if not any(name.lower() == "content-length" for name, _ in pairs):
        pairs.append(("Content-Length", str(len(BODY)).encode()))
    yield pairs
    print(
        f"\nheader fuzz: {EXAMPLES} cases per header, {len(READ_HEADERS)} headers; answers "
        + ", ".join(f"{h} {s}: {n}" for (h, s), n in sorted(_answers.items()))
    )


@pytest.mark.parametrize("header", READ_HEADERS)
def test_arbitrary_bytes_in_a_header_get_a_4xx_never_a_5xx(
    api_cloud: LocalCloudProcess, signed_headers: list[tuple[str, bytes]], header: str
) -> None:
    url = api_cloud.tasks_endpoint

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=not _configured,
        suppress_health_check=list(HealthCheck),
    )
    @given(value=st.binary(max_size=120))
    def case(value: bytes) -> None:
        # Given a signed request with one header's value replaced by arbitrary bytes
        headers = [(n, v) for n, v in signed_headers if n.lower() != header.lower()]
        original = next((v for n, v in signed_headers if n.lower() == header.lower()), None)
        headers.append((header, value))
        # When it is sent on the wire
        status = status_of(url, raw_request(url, headers, BODY))
        _answers[(header, status)] += 1
        # Then the API answers, with a client error: never a 5xx, never silence
        assert status != 0, f"no answer for {header}: {value!r}"
        assert status < 500, f"{status} for {header}: {value!r}"
        # ... and a changed signed header never reaches the function
        if header.lower() in MUST_REFUSE and value.strip() != (original or b"").strip():
            assert status in (400, 403, 431), f"{status} for {header}: {value!r}"

    case()
