"""One boto3 session for the local cloud's own clients and for moto's region lists.

A botocore session reads endpoints.json (1.2 MB) once, and a service's model at its first
client. moto's backends list their regions through a session of their own, kept for the
process (`AccountSpecificBackend.get_session`), which reads the same endpoints.json and the
same models again (for each service's endpoint prefix). The local cloud's clients
(provisioning, pollers, the live view, the engine's callbacks) are made from that session:
each file is parsed once per process, about 55 ms of a cached start's CPU (measured: 4
clients and the region lists of their services, 0.145 s apart, 0.09 s shared).

The session holds no credentials: each client is given its own. Clients are made under a
lock (a botocore session builds its parts lazily and is not documented as thread-safe); the
clients themselves are thread-safe.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

import boto3

_lock = threading.Lock()


@lru_cache(maxsize=1)
def shared_session() -> boto3.session.Session:
    """moto's region-listing session, or a session of our own if moto has none."""
    from moto.core.base_backend import AccountSpecificBackend

    get_session = getattr(AccountSpecificBackend, "get_session", None)
    session = get_session() if get_session is not None else None
    return session if isinstance(session, boto3.session.Session) else boto3.session.Session()


def make_client(service: str, **kwargs: Any) -> Any:
    """`shared_session().client(service, **kwargs)`, one client at a time."""
    with _lock:
        return shared_session().client(service, **kwargs)  # type: ignore[call-overload]
