"""moto's service errors (its not-found and invalid-input answers), as plain values: a handler
over moto's backends answers them itself, in the service's shape, instead of handing the call
back to moto."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class ServiceError(Exception):
    """An error moto's backend raised for the request (AWS's code, message and status)."""

    code: str
    message: str
    status: int


def answering_service_errors(read: Callable[[], T]) -> T:
    """`read()`, with moto's JSON service errors raised as `ServiceError`; anything else
    moto raises propagates unchanged (a bug, answered as an internal failure)."""
    from moto.core.exceptions import JsonRESTError

    try:
        return read()
    except JsonRESTError as error:
        raise ServiceError(str(error.error_type), str(error.message), int(error.code)) from error
