"""A gate on the AWS endpoint's calls to moto, so that a snapshot sees one consistent moment.

Every call to moto holds the gate shared; a snapshot holds it exclusively (new calls wait, the
calls under way finish first). So a dead-letter message and the execution that sent it, or a
queue message and the execution its consumer started, are saved together or not at all.
SQS ReceiveMessage does not hold it for the whole call, which can long-poll for seconds: each
of its scans of the queue (which marks messages received and moves the ones past
`maxReceiveCount` to the dead-letter queue) holds it shared as a `step()`, its waits do not
(moto_internals/sqs_races.py). So a dead letter is in its queue or in its dead-letter queue in
every snapshot, never in both or neither.
Step Functions executions move on in their own threads while the gate is held, but their
effects on other services are calls through the endpoint, which wait.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

# Calls that hold the gate per step themselves (a long poll must not hold it while it waits).
_STEPPED = {("sqs", "ReceiveMessage")}


class SnapshotGate:
    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._shared = 0
        self._exclusive = False
        self._writer_waiting = 0
        self.calls = 0  # gated calls so far: the checkpointer skips a save when none happened

    @staticmethod
    def applies(service: str | None, operation: str | None) -> bool:
        """The whole call holds the gate; otherwise it holds `step()` around each change."""
        return (service, operation) not in _STEPPED

    @contextmanager
    def shared(self) -> Iterator[None]:
        """A call to moto (counted: the next checkpoint has something to save)."""
        with self._held(counted=True):
            yield

    def step(self) -> AbstractContextManager[None]:
        """One step of a long call (a receive's scan); `changed()` counts it when it changed
        something, so idle long polls do not make every checkpoint save."""
        return self._held(counted=False)

    def changed(self) -> None:
        with self._condition:
            self.calls += 1

    @contextmanager
    def _held(self, *, counted: bool) -> Iterator[None]:
        with self._condition:
            while self._exclusive or self._writer_waiting:
                self._condition.wait()
            self._shared += 1
            self.calls += int(counted)
        try:
            yield
        finally:
            with self._condition:
                self._shared -= 1
                if self._shared == 0:
                    self._condition.notify_all()

    @contextmanager
    def exclusive(self, timeout: float = 10.0) -> Iterator[None]:
        """TimeoutError when the calls under way do not finish in time (a call that waits on
        another call, such as StartSyncExecution invoking a function, would otherwise hold
        the snapshot and the calls it waits for at once)."""
        deadline = time.monotonic() + timeout
        with self._condition:
            self._writer_waiting += 1
            try:
                while self._exclusive or self._shared:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise TimeoutError(f"{self._shared} AWS call(s) still under way")
                    self._condition.wait(remaining)
            finally:
                self._writer_waiting -= 1
                self._condition.notify_all()
            self._exclusive = True
        try:
            yield
        finally:
            with self._condition:
                self._exclusive = False
                self._condition.notify_all()
