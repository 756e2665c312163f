"""The log events the queries read: moto's CloudWatch Logs backend, in this process.

Which account and region a request is for is told as moto tells it (MOTO_ACCOUNT_ID, the
x-moto-account-id header, the access key's account; the SigV4 scope's region), so a query
reads the same log groups PutLogEvents wrote to.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

from ftb.localcloud.logs_insights.records import EventRecord
from ftb.localcloud.moto_internals import backends
from ftb.localcloud.moto_internals.logs import account_of_access_key, default_account

DEFAULT_REGION = "us-east-1"
_SCOPE = re.compile(r"Credential=(?P<key>[^/]+)/[^/]+/(?P<region>[^/]+)/")


def account_and_region(headers: Any) -> tuple[str, str]:
    match = _SCOPE.search(headers.get("Authorization", "") or "")
    region = match["region"] if match else DEFAULT_REGION
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"], region
    if headers.get("x-moto-account-id"):
        return str(headers["x-moto-account-id"]), region
    if match:
        return account_of_access_key(match["key"]), region
    return default_account(), region


class LogsStore:
    """One account's and region's log groups in moto."""

    def __init__(self, account_id: str, region: str) -> None:
        self.account_id = account_id
        self.region = region

    def _backend(self) -> Any:
        return backends.logs_of(self.account_id, self.region)

    def group(self, name: str) -> Any | None:
        return self._backend().groups.get(name)

    def events(self, groups: list[str], start_ms: int, end_ms: int) -> Iterator[EventRecord]:
        """The events of these groups with start_ms <= timestamp < end_ms."""
        for name in groups:
            group = self.group(name)
            if group is None:  # deleted while the query waited
                continue
            log = f"{self.account_id}:{name}"
            for stream_name, stream in list(group.streams.items()):
                # A snapshot: writers append to the list while the query runs.
                for index, event in enumerate(list(stream.events)):
                    timestamp = event.timestamp
                    if start_ms <= timestamp < end_ms:
                        yield EventRecord(
                            timestamp,
                            event.message,
                            event.ingestion_time,
                            name,
                            log,
                            stream_name,
                            index,
                        )

    def event(self, group: str, stream: str, index: int) -> EventRecord | None:
        log_group = self.group(group)
        log_stream = log_group.streams.get(stream) if log_group is not None else None
        if log_stream is None or not 0 <= index < len(log_stream.events):
            return None
        event = log_stream.events[index]
        return EventRecord(
            event.timestamp,
            event.message,
            event.ingestion_time,
            group,
            f"{self.account_id}:{group}",
            stream,
            index,
        )
