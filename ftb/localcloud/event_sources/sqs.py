"""SQS event source mappings, polled the way Lambda polls them.

Per mapping, up to `ScalingConfig.MaximumConcurrency` pollers each: long-poll the queue, fill
a batch up to `BatchSize` within `MaximumBatchingWindowInSeconds`, invoke the function with an
SQS event shaped like Lambda's, and delete what succeeded. A function error leaves the whole
batch on the queue (it reappears after the visibility timeout); with `ReportBatchItemFailures`
only the reported records stay. Moving a message to the dead-letter queue after
`maxReceiveCount` receives is the queue's own redrive policy, which the endpoint applies on
receive, exactly as SQS does.

An operator can pause a mapping (UpdateEventSourceMapping `Enabled=false`): the pollers finish
the batch in hand and stop receiving, so new messages wait in the queue; resuming picks them
up. `State` goes Disabling -> Disabled and Enabling -> Enabled as the pollers get there, and a
new `BatchSize` or batching window applies from each poller's next poll (Lambda API reference,
UpdateEventSourceMapping and EventSourceMappingConfiguration.State).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from ftb.localcloud.provision import EventSourceMapping

# Lambda long-polls for 20 s; shorter polls keep Ctrl-C snappy and cost nothing locally.
LONG_POLL_SECONDS = 2
# Without ScalingConfig.MaximumConcurrency, Lambda scales pollers up to the function's
# concurrency; locally two concurrent batches per mapping are plenty.
DEFAULT_CONCURRENCY = 2
# A throttled invocation is retried (Lambda backs off and retries the batch, it is not failed).
THROTTLE_RETRY_SECONDS = 30.0

Invoke = Callable[[str, bytes], Any]  # LambdaRuntime.invoke(name, payload) -> InvokeResult
Echo = Callable[[str, str], None]


def sqs_event_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One record of Lambda's SQS event, from a ReceiveMessage result."""
    attributes = dict(message.get("Attributes") or {})
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": attributes,
        "messageAttributes": {
            name: _message_attribute(value)
            for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    def b64(data: Any) -> str:
        raw = data if isinstance(data, bytes) else str(data).encode()
        return base64.b64encode(raw).decode("ascii")

    out: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues") or []),
        "binaryListValues": [b64(item) for item in value.get("BinaryListValues") or []],
        "dataType": value.get("DataType", "String"),
    }
    if "StringValue" in value:
        out["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        out["binaryValue"] = b64(value["BinaryValue"])
    return out


def succeeded_records(
    messages: list[dict[str, Any]], result: Any, report_batch_item_failures: bool
) -> list[dict[str, Any]]:
    """The messages to delete after an invocation, by Lambda's rules."""
    if result.function_error or result.status_code >= 300:
        return []
    if not report_batch_item_failures:
        return messages
    failed = _reported_failures(result.payload, {m["MessageId"] for m in messages})
    if failed is None:  # an invalid response fails the whole batch
        return []
    return [message for message in messages if message["MessageId"] not in failed]


def _reported_failures(payload: bytes, batch_ids: set[str]) -> set[str] | None:
    """Reported message ids; None when the response is invalid (the whole batch failed)."""
    text = (payload or b"").strip()
    if not text:
        return set()
    try:
        document = json.loads(text)
    except ValueError:
        return None
    if document is None or document == {}:
        return set()
    if not isinstance(document, dict):
        return None
    failures = document.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    out = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in batch_ids:
            return None
        out.add(identifier)
    return out


def _throttled(result: Any) -> bool:
    if result.status_code == 429:
        return True
    if not result.function_error:
        return False
    try:
        error_type = json.loads(result.payload or b"{}").get("errorType", "")
    except (ValueError, AttributeError):
        return False
    return error_type in {
        "TooManyRequestsException",
        "ReservedFunctionConcurrentInvocationLimitExceeded",
    }


class SqsPoller:
    """The pollers of one event source mapping."""

    def __init__(
        self,
        mapping: EventSourceMapping,
        sqs: Any,
        invoke: Invoke,
        region: str,
        *,
        concurrency: int,
        echo: Echo | None = None,
        faults: Any = None,
    ) -> None:
        self.mapping = mapping
        # Fault injection (ftb/localcloud/faults): `delivery_delay(...)` holds a received batch.
        self._faults = faults
        self.concurrency = max(1, concurrency)
        self._sqs = sqs
        self._invoke = invoke
        self._region = region
        self._echo = echo
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        # Pause/resume and configuration changes (UpdateEventSourceMapping), under `_changes`:
        # each poller thread reads `mapping` and `_generation` at the top of its loop.
        self._changes = threading.Condition()
        self._paused = not mapping.enabled
        self._generation = 0
        self._seen: dict[int, int] = {}  # poller index -> the generation it last read
        self._parked: set[int] = set()  # pollers waiting while paused
        self._transition = "Enabling"
        self.last_modified = time.time()
        self.delivered = 0  # records the function took (deleted from the queue): a statistic
        self._delivered_lock = threading.Lock()
        # Threads in a long poll with no batch in hand: a stop need not wait for them.
        self._polling: set[threading.Thread] = set()
        self._polling_lock = threading.Lock()

    @property
    def label(self) -> str:
        return f"{self.mapping.queue.name} -> {self.mapping.function_name}"

    def start(self) -> None:
        for index in range(self.concurrency):
            thread = threading.Thread(
                target=self._run,
                args=(index,),
                name=f"poller-{self.mapping.logical_id}-{index}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)

    def signal_stop(self) -> None:
        self._stop.set()
        with self._changes:
            self._changes.notify_all()

    def stop(self, timeout: float = 3.0) -> None:
        """Wait for the pollers that hold a batch; one waiting in a long poll holds nothing
        (what it may still receive after the stop stays on the queue, see `_run`)."""
        self.signal_stop()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            while thread.is_alive() and time.monotonic() < deadline:
                with self._polling_lock:
                    if thread in self._polling:
                        break
                thread.join(timeout=min(0.02, max(0.0, deadline - time.monotonic())))

    def _say(self, line: str) -> None:
        if self._echo is not None and not self._stop.is_set():
            self._echo("esm", f"{self.label}: {line}")

    # -- pause, resume, reconfigure ------------------------------------------------------

    @property
    def enabled(self) -> bool:
        with self._changes:
            return not self._paused

    @property
    def state(self) -> str:
        """Lambda's mapping State: Enabled, Disabling, Disabled, Enabling or Updating."""
        with self._changes:
            if self._paused:
                return "Disabled" if len(self._parked) >= len(self._threads) else "Disabling"
            behind = any(
                self._seen.get(i, -1) < self._generation for i in range(len(self._threads))
            )
            return self._transition if behind else "Enabled"

    def update(
        self,
        *,
        enabled: bool | None = None,
        batch_size: int | None = None,
        batching_window_seconds: int | None = None,
        report_batch_item_failures: bool | None = None,
    ) -> None:
        """Apply an UpdateEventSourceMapping: pollers pick it up at their next poll."""
        changes: dict[str, Any] = {}
        if batch_size is not None:
            changes["batch_size"] = batch_size
        if batching_window_seconds is not None:
            changes["batching_window_seconds"] = batching_window_seconds
        if report_batch_item_failures is not None:
            changes["report_batch_item_failures"] = report_batch_item_failures
        with self._changes:
            resuming = enabled is True and self._paused
            if enabled is not None:
                self._paused = not enabled
            if changes:
                self.mapping = dataclasses.replace(self.mapping, **changes)
            self.mapping = dataclasses.replace(self.mapping, enabled=not self._paused)
            self._transition = "Enabling" if resuming else "Updating"
            self._generation += 1
            self.last_modified = time.time()
            self._changes.notify_all()
        if resuming:
            self._say("resumed")
        elif enabled is False:
            self._say("paused: messages wait in the queue")

    def _next_configuration(self, index: int) -> EventSourceMapping | None:
        """Park while paused; the mapping to poll with, or None once stopping."""
        with self._changes:
            while self._paused and not self._stop.is_set():
                self._parked.add(index)
                self._changes.wait(0.5)
            self._parked.discard(index)
            self._seen[index] = self._generation
            return None if self._stop.is_set() else self.mapping

    # -- polling ---------------------------------------------------------------------------

    def _run(self, index: int = 0) -> None:
        me = threading.current_thread()
        while not self._stop.is_set():
            try:
                mapping = self._next_configuration(index)
                if mapping is None:
                    return
                with self._polling_lock:
                    self._polling.add(me)
                try:
                    messages = self._receive_batch(mapping)
                finally:
                    with self._polling_lock:
                        self._polling.discard(me)
                if messages and self._stop.is_set():
                    return  # received during the stop: they reappear after the visibility timeout
                if messages:
                    self._process(messages)
            except Exception as error:
                if self._stop.is_set():
                    return
                self._say(f"poll failed ({error}); retrying")
                self._stop.wait(1.0)

    def _receive(self, count: int, wait_seconds: int) -> list[dict[str, Any]]:
        response = self._sqs.receive_message(
            QueueUrl=self.mapping.queue.url,
            MaxNumberOfMessages=max(1, min(10, count)),
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(response.get("Messages") or [])

    def _receive_batch(self, mapping: EventSourceMapping) -> list[dict[str, Any]]:
        size = mapping.batch_size
        batch = self._receive(size, LONG_POLL_SECONDS)
        if not batch:
            return []
        deadline = time.monotonic() + mapping.batching_window_seconds
        while len(batch) < size and not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            more = self._receive(size - len(batch), min(20, int(remaining)))
            batch.extend(more)
            if not more and remaining < 1:
                self._stop.wait(min(0.1, remaining))
        return batch

    def _process(self, messages: list[dict[str, Any]]) -> None:
        queue = self.mapping.queue
        if self._faults is not None:
            delay = self._faults.delivery_delay(
                queue.name, queue.logical_id, self.mapping.function_name
            )
            if delay > 0:
                self._stop.wait(delay)
        event = {"Records": [sqs_event_record(m, queue.arn, self._region) for m in messages]}
        payload = json.dumps(event).encode("utf-8")
        give_up = time.monotonic() + THROTTLE_RETRY_SECONDS
        delay = 0.1
        while True:
            try:
                result = self._invoke(self.mapping.function_name, payload)
                throttled = _throttled(result)
            except Exception as error:
                # A throttle (reserved concurrency reached) is retried; anything else fails
                # the batch, which reappears after the visibility timeout.
                if getattr(error, "status_code", None) != 429 or time.monotonic() > give_up:
                    self._say(
                        f"invoke failed ({error}); {len(messages)} record(s) stay on the queue"
                    )
                    return
                throttled, result = True, None
            if not throttled or time.monotonic() > give_up or self._stop.is_set():
                break
            self._stop.wait(delay)
            delay = min(1.0, delay * 2)
        if result is None:
            return
        done = succeeded_records(messages, result, self.mapping.report_batch_item_failures)
        if len(done) < len(messages):
            why = "function error" if result.function_error else "reported failures"
            self._say(
                f"{len(messages) - len(done)} of {len(messages)} record(s) stay queued ({why})"
            )
        with self._delivered_lock:
            self.delivered += len(done)
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            self._sqs.delete_message_batch(
                QueueUrl=queue.url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(chunk)
                ],
            )


def start_pollers(
    mappings: list[EventSourceMapping],
    sqs: Any,
    invoke: Invoke,
    region: str,
    *,
    concurrency_limit: Callable[[str], int | None],
    echo: Echo | None = None,
    faults: Any = None,
) -> list[SqsPoller]:
    """One poller group per mapping (a disabled one starts paused: UpdateEventSourceMapping can
    enable it); `concurrency_limit(function)` caps its pollers."""
    pollers = []
    for mapping in mappings:
        wanted = mapping.maximum_concurrency or DEFAULT_CONCURRENCY
        if faults is not None:  # a what-if knob of ftb/localcloud/faults (esm-max-concurrency)
            wanted = faults.mapping_concurrency(mapping.queue.name, mapping.function_name, wanted)
        limit = concurrency_limit(mapping.function_name)
        poller = SqsPoller(
            mapping,
            sqs,
            invoke,
            region,
            concurrency=min(wanted, limit) if limit else wanted,
            echo=echo,
            faults=faults,
        )
        poller.start()
        pollers.append(poller)
    return pollers
