"""AWS_IAM authorization as API Gateway applies it: the request's Signature Version 4.

The signature is recomputed with botocore's own signer (canonical request, string to sign,
signing key) from the headers the client says it signed, and compared in constant time.
Every refusal is API Gateway's: its status, its `x-amzn-ErrorType` and its message, word for
word as API Gateway and AWS's other SigV4 services answer them, e.g.
  403 {"message": "Missing Authentication Token"}             (no Authorization header)
  403 "The request signature we calculated does not match the signature you provided. ..."
      followed by the canonical string and the string to sign it expected
  403 "Signature expired: 20201027T123008Z is now earlier than 20201027T125507Z
      (20201027T130007Z - 5 min.)"                              (outside the 5-minute skew)
  403 "Credential should be scoped to a valid region, not 'eu-west-1'. "
  403 "Credential should be scoped to correct service: 'execute-api'. "
  403 "The security token included in the request is invalid." (an unknown access key)
Query-string (presigned) authentication is refused as missing, not emulated.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

from ftb.localcloud.apigateway.proxy import HttpRequest

SERVICE = "execute-api"
ALGORITHM = "AWS4-HMAC-SHA256"
ALLOWED_SKEW = timedelta(minutes=5)
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
_HTTP_DATE = "%a, %d %b %Y %H:%M:%S GMT"

MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check "
    "your AWS Secret Access Key and signing method. Consult the service documentation for "
    "details."
)
INVALID_TOKEN = "The security token included in the request is invalid."


@dataclass(frozen=True)
class LocalCredentials:
    """The one AWS principal of the local cloud (printed in its banner and state file)."""

    access_key_id: str
    secret_access_key: str


@dataclass(frozen=True)
class Refusal:
    """Why API Gateway refuses the request: a gateway response type, its message, its type."""

    response_type: str
    message: str
    error_type: str


@dataclass(frozen=True)
class _Authorization:
    access_key_id: str
    date: str
    region: str
    service: str
    terminator: str
    signed_headers: list[str]
    signature: str


def verify(
    request: HttpRequest,
    *,
    credentials: LocalCredentials,
    region: str,
    now: datetime | None = None,
) -> Refusal | None:
    """None when `request` carries a valid SigV4 signature of `credentials` for execute-api in
    `region`; else API Gateway's refusal."""
    header = request.header("Authorization")
    if header is None or not header.strip():
        return Refusal(
            "MISSING_AUTHENTICATION_TOKEN",
            "Missing Authentication Token",
            "MissingAuthenticationTokenException",
        )
    parsed = _parse(header, request)
    if isinstance(parsed, Refusal):
        return parsed
    amz_date = request.header("X-Amz-Date")
    try:
        if amz_date is not None:
            signed_at = datetime.strptime(amz_date.strip(), _AMZ_DATE).replace(tzinfo=UTC)
        else:
            date = request.header("Date") or ""
            signed_at = datetime.strptime(date.strip(), _HTTP_DATE).replace(tzinfo=UTC)
    except ValueError:
        text = amz_date if amz_date is not None else request.header("Date")
        return _invalid_signature(
            f"Date must be in ISO-8601 'basic format'. Got '{text}'. See "
            "http://en.wikipedia.org/wiki/ISO_8601"
        )
    timestamp = signed_at.strftime(_AMZ_DATE)
    if parsed.date != timestamp[:8]:
        return _invalid_signature(
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{parsed.date}' != '{timestamp[:8]}', from '{timestamp}'."
        )
    if parsed.region != region:
        return _invalid_signature(
            f"Credential should be scoped to a valid region, not '{parsed.region}'. "
        )
    if parsed.service != SERVICE:
        return _invalid_signature(f"Credential should be scoped to correct service: '{SERVICE}'. ")
    if parsed.terminator != "aws4_request":
        return _invalid_signature(
            "Credential should be scoped with a valid terminator: 'aws4_request', "
            f"not '{parsed.terminator}'. "
        )
    # The local principal has no session token: a token is one API Gateway cannot recognise.
    if parsed.access_key_id != credentials.access_key_id or request.header("X-Amz-Security-Token"):
        return Refusal("INVALID_SIGNATURE", INVALID_TOKEN, "UnrecognizedClientException")
    current = (now or datetime.now(UTC)).replace(microsecond=0)
    if signed_at < current - ALLOWED_SKEW:
        return _invalid_signature(
            f"Signature expired: {timestamp} is now earlier than "
            f"{(current - ALLOWED_SKEW).strftime(_AMZ_DATE)} "
            f"({current.strftime(_AMZ_DATE)} - 5 min.)"
        )
    if signed_at > current + ALLOWED_SKEW:
        return _invalid_signature(
            f"Signature not yet current: {timestamp} is still later than "
            f"{(current + ALLOWED_SKEW).strftime(_AMZ_DATE)} "
            f"({current.strftime(_AMZ_DATE)} + 5 min.)"
        )
    canonical, string_to_sign, expected = _expected_signature(
        request, parsed, timestamp, credentials, region
    )
    declared_hash = request.header("X-Amz-Content-SHA256")
    body_hash = hashlib.sha256(request.body).hexdigest()
    body_matches = declared_hash is None or declared_hash.strip() == body_hash
    if not body_matches or not hmac.compare_digest(expected, parsed.signature):
        return _invalid_signature(
            f"{MISMATCH}\n\nThe Canonical String for this request should have been\n"
            f"'{canonical}'\n\nThe String-to-Sign should have been\n'{string_to_sign}'\n"
        )
    return None


def _parse(header: str, request: HttpRequest) -> _Authorization | Refusal:
    """The Authorization header's parts, or API Gateway's refusal of a malformed one."""
    algorithm, _, rest = header.strip().partition(" ")
    pairs: dict[str, str] = {}
    for part in rest.split(","):
        part = part.strip()
        if not part:
            continue
        key, equals, value = part.partition("=")
        if not equals:
            digest = base64.b64encode(hashlib.sha256(part.encode()).digest()).decode()
            return Refusal(
                "INVALID_SIGNATURE",
                "Invalid key=value pair (missing equal-sign) in Authorization header (hashed "
                f"with SHA-256 and encoded with Base64): '{digest}'.",
                "IncompleteSignatureException",
            )
        pairs[key.strip()] = value.strip()
    missing = [
        f"Authorization header requires '{name}' parameter."
        for name in ("Credential", "Signature", "SignedHeaders")
        if not pairs.get(name)
    ]
    if request.header("X-Amz-Date") is None and request.header("Date") is None:
        missing.append(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )
    if algorithm != ALGORITHM:
        missing.insert(0, f"Unsupported Authorization Type: '{algorithm}'.")
    if missing:
        return Refusal(
            "INVALID_SIGNATURE",
            " ".join(missing) + f" Authorization={header.strip()}",
            "IncompleteSignatureException",
        )
    scope = pairs["Credential"].split("/")
    if len(scope) != 5:
        region = scope[2] if len(scope) > 2 else ""
        return _invalid_signature(
            f"Credential should be scoped to a valid region, not '{region}'. "
        )
    access_key_id, date, region, service, terminator = scope
    return _Authorization(
        access_key_id=access_key_id,
        date=date,
        region=region,
        service=service,
        terminator=terminator,
        signed_headers=[name.strip().lower() for name in pairs["SignedHeaders"].split(";")],
        signature=pairs["Signature"].lower(),
    )


class _DeclaredHeaders(SigV4Auth):
    """botocore's signer, canonicalizing exactly the headers the client declared it signed."""

    def __init__(self, credentials: Credentials, region: str, signed: HTTPHeaders) -> None:
        super().__init__(credentials, SERVICE, region)
        self._signed = signed

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        return self._signed


def _expected_signature(
    request: HttpRequest,
    parsed: _Authorization,
    timestamp: str,
    credentials: LocalCredentials,
    region: str,
) -> tuple[str, str, str]:
    """(canonical request, string to sign, signature) as the server computes them."""
    signed = HTTPHeaders()
    for name in parsed.signed_headers:
        for key, value in request.headers:
            if key.lower() == name:
                signed[name] = value
    # AWS canonicalizes the query it received: each name and value decoded, then encoded
    # per RFC 3986 (botocore sorts the pairs).
    query = "&".join(
        f"{quote(key, safe='-_.~')}={quote(value, safe='-_.~')}"
        for key, value in parse_qsl(request.raw_query, keep_blank_values=True)
    )
    # The URL gives the canonical path and query only: the Host value signed is the header's
    # own (in `signed`). Building the URL from the Host header let any bytes in it ("[" opens
    # an IPv6 literal) break urlsplit, a 5xx where API Gateway answers 403.
    url = f"http://localhost{request.raw_path}"
    aws_request = AWSRequest(
        method=request.method, url=f"{url}?{query}" if query else url, data=request.body
    )
    aws_request.context["timestamp"] = timestamp
    signer = _DeclaredHeaders(
        Credentials(credentials.access_key_id, credentials.secret_access_key), region, signed
    )
    canonical = signer.canonical_request(aws_request)
    string_to_sign = signer.string_to_sign(aws_request, canonical)
    return canonical, string_to_sign, signer.signature(string_to_sign, aws_request)


def _invalid_signature(message: str) -> Refusal:
    return Refusal("INVALID_SIGNATURE", message, "InvalidSignatureException")
