"""Ships function log lines to CloudWatch Logs on the local endpoint, in batches.

One background thread owns the boto3 client: lines are queued by the workers' output readers
and sent every SHIP_INTERVAL seconds as one PutLogEvents per stream, so a chatty function
costs a request per interval, not per line. The log group and stream are created on first
use (the group may already exist, provisioned from the template with its retention).
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

SHIP_INTERVAL = 0.2
# PutLogEvents limits: 10,000 events and 1,048,576 bytes (each event counts 26 extra bytes);
# an event is at most 256 KiB.
MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
MAX_EVENT_BYTES = 256 * 1024 - 26
EVENT_OVERHEAD = 26

_Event = tuple[str, str, int, str]  # group, stream, timestamp ms, message
_TICK = threading.Event()  # "the interval is over": ship what is pending


class LogShipper:
    def __init__(
        self,
        endpoint_url: Callable[[], str],
        region: str,
        own_client: Callable[[Any], Any] = lambda client: client,
    ) -> None:
        self._endpoint_url = endpoint_url
        self._region = region
        # The endpoint's in-process transport when it runs in this process (in_process.py).
        self._own_client = own_client
        self._queue: queue.Queue[_Event | threading.Event | None] = queue.Queue()
        self._known: set[tuple[str, str]] = set()
        self._client: Any = None
        self._client_url = ""
        self._warned = False
        self._thread = threading.Thread(target=self._run, name="lambda-log-shipper", daemon=True)
        self._thread.start()

    def put(self, group: str, stream: str, message: str) -> None:
        self._queue.put((group, stream, int(time.time() * 1000), message))

    def flush(self, timeout: float) -> bool:
        """Ship everything queued so far."""
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def close(self, timeout: float) -> None:
        self.flush(timeout)
        self._queue.put(None)
        self._thread.join(timeout=1)

    def _run(self) -> None:
        pending: list[_Event] = []
        next_ship = time.monotonic() + SHIP_INTERVAL
        while True:
            try:
                item = self._queue.get(timeout=max(next_ship - time.monotonic(), 0.001))
            except queue.Empty:
                item = _TICK
            if item is None:  # closing
                self._ship(pending)
                return
            if isinstance(item, tuple):
                pending.append(item)
            if (
                item is _TICK
                or isinstance(item, threading.Event)
                or (len(pending) >= MAX_BATCH_EVENTS or time.monotonic() >= next_ship)
            ):
                self._ship(pending)
                pending = []
                next_ship = time.monotonic() + SHIP_INTERVAL
            if isinstance(item, threading.Event) and item is not _TICK:
                item.set()

    def _ship(self, events: list[_Event]) -> None:
        if not events:
            return
        by_stream: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for group, stream, timestamp, message in events:
            text = message if message else " "  # CloudWatch rejects empty messages
            if len(text.encode("utf-8")) > MAX_EVENT_BYTES:
                text = text.encode("utf-8")[:MAX_EVENT_BYTES].decode("utf-8", errors="ignore")
            by_stream.setdefault((group, stream), []).append(
                {"timestamp": timestamp, "message": text}
            )
        for (group, stream), batch in by_stream.items():
            try:
                self._ensure_stream(group, stream)
                for chunk in _chunks(batch):
                    self._logs().put_log_events(
                        logGroupName=group, logStreamName=stream, logEvents=chunk
                    )
            except (BotoCoreError, ClientError) as error:
                self._known.discard((group, stream))
                if not self._warned:
                    self._warned = True
                    print(f"[ftb] could not ship Lambda logs to {self._client_url}: {error}")

    def _ensure_stream(self, group: str, stream: str) -> None:
        if (group, stream) in self._known:
            return
        logs = self._logs()
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_group(logGroupName=group)
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
        self._known.add((group, stream))

    def _logs(self) -> Any:
        url = self._endpoint_url()
        if self._client is None or url != self._client_url:
            client = boto3.session.Session().client(
                "logs",
                endpoint_url=url,
                region_name=self._region,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                config=Config(
                    retries={"mode": "standard", "max_attempts": 2},
                    connect_timeout=2,
                    read_timeout=10,
                ),
            )
            self._client = self._own_client(client)
            self._client_url = url
            self._known.clear()
        return self._client


def _chunks(events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Split into PutLogEvents-sized batches, in chronological order."""
    events = sorted(events, key=lambda event: event["timestamp"])  # stable: keeps line order
    chunks: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    size = 0
    for event in events:
        event_size = len(event["message"].encode("utf-8")) + EVENT_OVERHEAD
        if current and (len(current) >= MAX_BATCH_EVENTS or size + event_size > MAX_BATCH_BYTES):
            chunks.append(current)
            current, size = [], 0
        current.append(event)
        size += event_size
    if current:
        chunks.append(current)
    return chunks
