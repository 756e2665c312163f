"""How the operator commands prove who they are to the task API (stack output ApiAuthorization).

- `iam`: every request is signed with SigV4 (botocore's SigV4Auth, service `execute-api`, the
  target's region) with the target's credentials: the local cloud's (its state file), or the
  caller's AWS credentials for a deployed stack (their role needs the ApiInvokePolicyArn policy).
- `apiKey`: the `x-api-key` header carries the key named by output ApiKeyId: its value is in the
  local cloud's state file, or read with apigateway:GetApiKey (includeValue) on AWS.
- `none` (or a stack without the output): nothing is added.
Each attempt is signed afresh: a retry after a backoff must not carry an expired signature.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials, ReadOnlyCredentials

from infra import names

SERVICE = "execute-api"
API_KEY_HEADER = names.API_KEY_HEADER

# (method, url, headers, body) -> the headers to send
Authorize = Callable[[str, str, dict[str, str], bytes | None], dict[str, str]]


@dataclass(frozen=True)
class SigV4Signer:
    """Signs each request with the credentials `credentials()` returns at that moment."""

    credentials: Callable[[], ReadOnlyCredentials | Credentials]
    region: str

    def __call__(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> dict[str, str]:
        request = AWSRequest(method=method, url=url, data=body or b"", headers=dict(headers))
        # Frozen per request: a refreshing role's key, secret and token always match.
        SigV4Auth(self.credentials(), SERVICE, self.region).add_auth(request)
        return dict(request.headers.items())


@dataclass(frozen=True)
class ApiKeyHeader:
    value: str

    def __call__(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> dict[str, str]:
        return {**headers, API_KEY_HEADER: self.value}
