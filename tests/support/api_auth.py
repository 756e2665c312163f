"""Requests to a local cloud's API carry its authorization by default, in one place.

Every running `LocalCloudProcess` registers its API (base URL -> what its state file says: the
mode from output ApiAuthorization, the local credentials, the generated API keys). `authorize`
then signs a request to that API with SigV4 (the operator commands' own signer,
ftb/ops/api_auth.py) or adds its x-api-key, as a real client does; tests of refusals ask for
`Unsigned` or `WrongSecret` explicitly.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import requests
from botocore.credentials import Credentials

from ftb.ops.api_auth import ApiKeyHeader, SigV4Signer
from infra import names


@dataclass(frozen=True)
class ApiAccess:
    mode: str
    region: str
    access_key_id: str
    secret_access_key: str
    api_key: str | None

    def signer(self, secret: str | None = None, region: str | None = None) -> SigV4Signer:
        credentials = Credentials(self.access_key_id, secret or self.secret_access_key)
        return SigV4Signer(credentials.get_frozen_credentials, region or self.region)


_lock = threading.Lock()
_apis: dict[str, ApiAccess] = {}


def register(state: dict[str, Any]) -> ApiAccess:
    """Remember how to call the API of the local cloud that wrote `state`."""
    outputs = state.get("outputs") or {}
    credentials = state.get("credentials") or {}
    keys = state.get("apiKeys") or {}
    access = ApiAccess(
        mode=outputs.get(names.OUT_API_AUTHORIZATION, names.API_AUTH_NONE),
        region=state["region"],
        access_key_id=credentials.get("accessKeyId", ""),
        secret_access_key=credentials.get("secretAccessKey", ""),
        api_key=keys.get(outputs.get(names.OUT_API_KEY_ID, "")),
    )
    with _lock:
        _apis[str(state["apiUrl"]).rstrip("/")] = access
    return access


def unregister(state: dict[str, Any]) -> None:
    with _lock:
        _apis.pop(str(state.get("apiUrl", "")).rstrip("/"), None)


def access_for(url: str) -> ApiAccess | None:
    with _lock:
        return next((a for base, a in _apis.items() if url.startswith(base + "/")), None)


def authorize(method: str, url: str, headers: dict[str, str], body: bytes | None) -> dict[str, str]:
    """`headers` plus the authorization a client of that API sends (unchanged for others)."""
    access = access_for(url)
    if access is None or access.mode == names.API_AUTH_NONE:
        return dict(headers)
    if access.mode == names.API_AUTH_API_KEY:
        assert access.api_key is not None, "the local cloud's state file has no API key"
        return ApiKeyHeader(access.api_key)(method, url, headers, body)
    return access.signer()(method, url, headers, body)


class SignedSession(requests.Session):
    """A requests session whose every prepared request is authorized by `authorize`."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        body = request.body.encode() if isinstance(request.body, str) else request.body
        url = str(request.url)
        headers = {
            k: v if isinstance(v, str) else v.decode()
            for k, v in request.headers.items()
            if k.lower() != "authorization"
        }
        request.headers.clear()
        payload = body if isinstance(body, bytes) or body is None else None
        request.headers.update(authorize(str(request.method), url, headers, payload))
        return super().send(request, **kwargs)


class UnsignedSession(requests.Session):
    """A requests session that sends no credential at all, whatever a generator put in."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        for name in ("Authorization", "x-api-key", "X-Amz-Date", "X-Amz-Security-Token"):
            request.headers.pop(name, None)
        return super().send(request, **kwargs)
