"""Step Functions' paging: `maxResults` and an opaque `nextToken`, as its list operations page.

AWS (API reference, GetExecutionHistory and ListExecutions): `maxResults` defaults to 100, at
most 1000, and "a value of 0 uses the default"; a `nextToken` is opaque, belongs to the request
it came from ("keep all other arguments unchanged"), and a bad one is a 400 `InvalidToken`.

A token here names the sort key of the last item returned, not an offset: a page continues
after that item even when items were added meanwhile (a running execution's history grows).
It is signed with a per-process key, so a token altered, invented or reused with other
arguments is refused rather than read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
_SECRET = secrets.token_bytes(32)

Item = TypeVar("Item")


class StatesError(Exception):
    """An error answer of the Step Functions API (JSON protocol, 400)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def invalid_token(detail: str) -> StatesError:
    return StatesError("InvalidToken", f"Invalid Token: '{detail}'")


def validation_error(member: str, value: Any, constraint: str) -> StatesError:
    """AWS's validation message shape ("1 validation error detected: Value ... at ...")."""
    return StatesError(
        "ValidationException",
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: {constraint}",
    )


def page_size(value: Any) -> int:
    """`maxResults` as AWS reads it: absent or 0 is the default, else 1..1000."""
    if value is None:
        return DEFAULT_PAGE_SIZE
    if isinstance(value, bool) or not isinstance(value, int):
        raise validation_error("maxResults", value, "Member must be a number")
    if value < 0:
        raise validation_error(
            "maxResults", value, "Member must have value greater than or equal to 0"
        )
    if value > MAX_PAGE_SIZE:
        raise validation_error(
            "maxResults", value, f"Member must have value less than or equal to {MAX_PAGE_SIZE}"
        )
    return value or DEFAULT_PAGE_SIZE


def encode_token(scope: str, after: list[Any]) -> str:
    """A token for the page after the item whose sort key is `after`, valid for `scope` only."""
    payload = json.dumps({"s": scope, "a": after}, separators=(",", ":")).encode()
    signature = hmac.new(_SECRET, payload, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(signature + payload).decode().rstrip("=")


def decode_token(token: Any, scope: str) -> list[Any]:
    """The sort key a token continues after; InvalidToken when it is not one of ours for `scope`."""
    if not isinstance(token, str) or not token:
        raise invalid_token("nextToken must be a non-empty string")
    if len(token) > 1024:  # AWS's PageToken is at most 1024 characters
        raise invalid_token("nextToken is longer than 1024 characters")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise invalid_token("Unable to decode the nextToken") from None
    signature, payload = raw[:16], raw[16:]
    expected = hmac.new(_SECRET, payload, hashlib.sha256).digest()[:16]
    if len(signature) != 16 or not hmac.compare_digest(signature, expected):
        raise invalid_token("The nextToken was not issued by this endpoint or has expired")
    document = json.loads(payload)
    if document.get("s") != scope:
        raise invalid_token("The nextToken belongs to a request with other arguments")
    after = document.get("a")
    if not isinstance(after, list):
        raise invalid_token("Unable to decode the nextToken")
    return after


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_token: str | None


def take_page(
    items: Sequence[Item],
    sort_key: Callable[[Item], list[Any]],
    size: int,
    scope: str,
    token: str | None,
) -> Page:
    """The page of `items` (already in answer order, `sort_key` ascending along it) that the
    token asks for, and the token of the next page when more items follow."""
    start = 0
    if token is not None:
        after = decode_token(token, scope)
        while start < len(items) and sort_key(items[start]) <= after:
            start += 1
    chosen = list(items[start : start + size])
    more = start + size < len(items)
    next_token = encode_token(scope, sort_key(chosen[-1])) if (more and chosen) else None
    return Page(chosen, next_token)
