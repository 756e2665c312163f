"""moto's CloudWatch Logs: the events snapshots rebuild, and whose account a request is for."""

from __future__ import annotations

from typing import Any


def new_log_event(ingestion_time: int, timestamp: int, message: str) -> Any:
    """A log event as PutLogEvents stores it."""
    from moto.logs.models import LogEvent

    return LogEvent(ingestion_time, {"timestamp": timestamp, "message": message})


def default_account() -> str:
    from moto.core import DEFAULT_ACCOUNT_ID

    return str(DEFAULT_ACCOUNT_ID)


def account_of_access_key(access_key: str) -> str:
    """The account moto gives a request signed with this access key."""
    from moto.iam.models import get_account_id_from

    return str(get_account_id_from(access_key))
