"""The local cloud's saved state: load it at the start, restore it after provisioning, save it
at every checkpoint and at the stop.

Snapshots read and write moto's backends in this process (the endpoint runs moto in-process),
not its APIs: the APIs cannot put back a message's receive count, an execution's history or a
log event's ingestion time, and listing 2,000 executions' histories through HTTP would make
every checkpoint slow. The price is a dependency on moto's model classes, pinned in
pyproject.toml and covered by the round-trip tests in tests/unit/localcloud/persistence/.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftb.localcloud import registry
from ftb.localcloud.faults import Faults
from ftb.localcloud.lambda_runtime import LambdaRuntime
from ftb.localcloud.persistence import codec, functions, shape, sqs, stepfunctions
from ftb.localcloud.persistence import faults as fault_counters
from ftb.localcloud.persistence.quiesce import SnapshotGate
from ftb.localcloud.persistence.store import (
    LoadedSnapshot,
    SnapshotError,
    SnapshotStore,
    age_text,
)

DEFAULT_CHECKPOINT_SECONDS = 2.0
# While checkpoints keep failing, the attention line is repeated this often (with the age of
# the last good one): a cloud left running should not look saved when it is not.
FAILING_REMINDER_SECONDS = 300.0
_REASON_CHARS = 100

Say = Callable[[str], None]


@dataclass
class CheckpointHealth:
    """What the live view shows of the checkpoints: the age of the last good one, always."""

    enabled: bool
    last_good_at: float | None  # the snapshot on disk (restored, or the last save)
    failure: str | None  # a short reason, when the last attempt failed
    failures_in_a_row: int = 0

    def line(self) -> str:
        if not self.enabled:
            return "at Ctrl-C only (--checkpoint-seconds 0)"
        last = "none yet" if self.last_good_at is None else age_text(self.last_good_at)
        if self.failure is None:
            return f"last saved {last}"
        return (
            f"last good checkpoint {last}; the last {self.failures_in_a_row} attempt(s) "
            f"failed: {self.failure}"
        )


def _reason(error: BaseException) -> str:
    """One line: the error's type and message, and where an unexpected one was raised."""
    text = " ".join(f"{type(error).__name__}: {error}".split())
    if len(text) > _REASON_CHARS:
        text = text[: _REASON_CHARS - 1] + "…"
    if not isinstance(error, (OSError, TimeoutError)):
        frames = traceback.extract_tb(error.__traceback__)
        if frames:
            text += f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})"
    return text


class IncompatibleSnapshot(SnapshotError):
    """The saved state was made by a template whose stateful resources this one lacks."""


@dataclass
class SaveFigures:
    capture_seconds: float  # with AWS calls held (the gate)
    write_seconds: float
    bytes: int
    executions: int
    running: int
    messages: int


@dataclass
class Capture:
    document: dict[str, Any]
    capture_seconds: float
    calls: int  # the gate's count of calls at the capture


@dataclass
class RestoreSummary:
    saved_at: float
    executions: int = 0
    rerun: int = 0
    messages: int = 0
    items: int = 0
    log_events: int = 0
    function_changes: list[str] = field(default_factory=list)
    fault_counters: bool = False
    discarded_partial: bool = False

    def lines(self) -> list[str]:
        lines = [
            f"restored the state saved {age_text(self.saved_at)}: {self.executions} "
            f"executions ({self.rerun} interrupted, running again), {self.messages} queued "
            f"messages, {self.items} table items, {self.log_events} log events"
        ]
        lines += [f"kept configuration change: {line}" for line in self.function_changes]
        if self.fault_counters:
            lines.append("fault injection counters carried on")
        if self.discarded_partial:
            lines.append("a save interrupted half-way was discarded; the last complete one is used")
        return lines


class StateKeeper:
    """One cloud's saved state. Nothing is written until the start has restored (or started
    fresh): a refused snapshot is never overwritten by the cloud that refused it."""

    def __init__(
        self,
        directory: Path,
        region: str,
        say: Say,
        *,
        checkpoint_seconds: float = DEFAULT_CHECKPOINT_SECONDS,
        warn: Say | None = None,
    ) -> None:
        self.store = SnapshotStore(directory)
        self.region = region
        self.say = say
        # A failed checkpoint: shown in every mode and written to the cloud's log.
        self.warn = warn or say
        self.gate = SnapshotGate()
        self.checkpoint_seconds = checkpoint_seconds
        self.runtime: LambdaRuntime | None = None
        self.faults: Faults | None = None
        self._loaded: LoadedSnapshot | None = None
        self.function_baseline: dict[str, dict[str, Any]] = {}
        self._armed = False
        self._save_lock = threading.Lock()
        self._stop_checkpoints = threading.Event()
        self._checkpointer: threading.Thread | None = None
        self._calls_at_last_save = -1
        self._functions_at_last_save: dict[str, Any] | None = None
        # What earlier checkpoints captured of what never changes (see the modules); the
        # services' persistence (ftb/localcloud/services) reads them and `region`, `runtime`.
        self.ended_executions: dict[int, dict[str, Any]] = {}
        self.log_streams: dict[int, list[Any]] = {}
        self.summary: RestoreSummary | None = None
        self.set_aside: Path | None = None
        self.last_save: SaveFigures | None = None
        self._last_good_at: float | None = None
        self._failure: str | None = None
        self._failures_in_a_row = 0
        self._reported: set[str] = set()  # failure reasons said since the last good one
        self._reminded_at = 0.0

    @property
    def armed(self) -> bool:
        """Saving is allowed: the start restored the saved state (or started fresh)."""
        return self._armed

    # -- start ----------------------------------------------------------------------------

    def load(self, fresh: bool) -> None:
        """Before provisioning: read the snapshot (SnapshotError when it is unusable)."""
        if fresh:
            self.set_aside = self.store.set_aside()
            return
        self._loaded = self.store.read()

    def restore(self, runtime: LambdaRuntime, faults: Faults | None) -> RestoreSummary | None:
        """After provisioning, before any poller or the API starts. Checks the shape first:
        an incompatible snapshot raises before anything is put back."""
        self.runtime, self.faults = runtime, faults
        self.function_baseline = functions.baseline(runtime)
        loaded = self._loaded
        if loaded is None:
            self._armed = True
            return None
        document = loaded.document
        try:
            saved_shape = document["shape"]
            float(document["savedAt"])
            services = document["services"]
            for saved in registry.persisted():
                services[saved.key]  # all there before anything is put back
            problems = shape.mismatches(saved_shape, shape.current(self.region))
        except (KeyError, TypeError) as error:
            raise SnapshotError(
                f"{loaded.path} is incomplete (no {error}); nothing was loaded. Move it away, "
                "or start empty with `ftb local --fresh`"
            ) from None
        if problems:
            raise IncompatibleSnapshot(
                f"the saved state in {loaded.path} was made by an incompatible template "
                f"(fingerprint {document.get('fingerprint')}, this one "
                f"{shape.fingerprint(shape.current(self.region))}): "
                + "; ".join(problems)
                + ". Nothing was loaded. Start with the template that made it, or start empty "
                "with `ftb local --fresh` (the saved state is set aside, not deleted)"
            )
        try:
            with codec.without_gc():
                self.summary = self._put_back(document, runtime, faults)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            # The start fails and its process ends: a half-restored state never runs, and
            # the snapshot is not overwritten (saving is not armed).
            raise SnapshotError(
                f"{loaded.path} does not hold what this `ftb local` expects "
                f"({type(error).__name__}: {error}); the start is abandoned. Move it away, or "
                "start empty with `ftb local --fresh`"
            ) from None
        self.summary.discarded_partial = loaded.discarded_partial
        self._last_good_at = self.summary.saved_at
        self._loaded = None  # the restored state is the cloud's now
        self._armed = True
        return self.summary

    def _put_back(
        self, document: dict[str, Any], runtime: LambdaRuntime, faults: Faults | None
    ) -> RestoreSummary:
        services = document["services"]
        summary = RestoreSummary(saved_at=float(document["savedAt"]))
        summary.fault_counters = fault_counters.restore(services.get("faults"), faults)
        # The reverse of the capture order: re-run executions (captured first) come last,
        # as they invoke functions and send messages at once.
        for saved in reversed(registry.persisted()):
            saved.restore(services[saved.key], self, summary)
        return summary

    def template_changed(self) -> None:
        """After the template's configuration was applied live (hot reload): what changed is
        the template, not a change made by hand, so it is the new baseline."""
        if self.runtime is not None:
            self.function_baseline = functions.baseline(self.runtime)

    # -- save -----------------------------------------------------------------------------

    def capture(self) -> Capture:
        """One consistent moment of every service (AWS calls wait meanwhile)."""
        assert self.runtime is not None
        started = time.perf_counter()
        with self.gate.exclusive():
            calls = self.gate.calls
            # In each service's declared order (Step Functions first: ftb/localcloud/services).
            services: dict[str, Any] = {
                saved.key: saved.capture(self) for saved in registry.persisted()
            }
            services["faults"] = fault_counters.capture(self.faults)
            current_shape = shape.current(self.region)
        document = {
            "savedAt": time.time(),
            "shape": current_shape,
            "fingerprint": shape.fingerprint(current_shape),
            "services": services,
        }
        return Capture(document, time.perf_counter() - started, calls)

    def save(self) -> SaveFigures | None:
        """A checkpoint (atomic); None when saving is not armed (the start did not restore)."""
        if not self._armed:
            return None
        with self._save_lock:
            taken = self.capture()
            started = time.perf_counter()
            size = self.store.write(taken.document)
            services = taken.document["services"]
            ended, running = stepfunctions.execution_count(services["stepfunctions"])
            self.last_save = SaveFigures(
                capture_seconds=taken.capture_seconds,
                write_seconds=time.perf_counter() - started,
                bytes=size,
                executions=ended + running,
                running=running,
                messages=sqs.message_count(services["sqs"]),
            )
            self._last_good_at = float(taken.document["savedAt"])
            # Only once written: after a failed write the next interval must try again.
            self._calls_at_last_save = taken.calls
            self._functions_at_last_save = services["functions"]
            return self.last_save

    def _changed_since_last_save(self) -> bool:
        # Configuration changes go to the runtime, not through moto: compared directly.
        assert self.runtime is not None
        return (
            self.gate.calls != self._calls_at_last_save
            or stepfunctions.running_count(self.region) > 0
            or functions.capture(self.runtime, self.function_baseline)
            != self._functions_at_last_save
        )

    # -- checkpoints ----------------------------------------------------------------------

    def start_checkpoints(self) -> None:
        if self.checkpoint_seconds <= 0 or self._checkpointer is not None:
            return
        self._checkpointer = threading.Thread(
            target=self._checkpoint_loop, name="state-checkpoints", daemon=True
        )
        self._checkpointer.start()

    def next_checkpoint_in(self) -> float:
        """The interval, or twice the last save's time when that is longer: a large state
        (about 2 s to save at 2,000 tasks on a loaded laptop) is checkpointed less often
        rather than keep a core busy."""
        last = self.last_save
        spent = last.capture_seconds + last.write_seconds if last is not None else 0.0
        return max(self.checkpoint_seconds, 2 * spent)

    def _checkpoint_loop(self) -> None:
        """Survives any error: the previous snapshot stays the good one, the next interval
        tries again, and the failure is said once per distinct reason (and reminded while it
        lasts), never a line every two seconds."""
        while not self._stop_checkpoints.wait(self.next_checkpoint_in()):
            try:
                if not self._changed_since_last_save():
                    continue
                self.save()
            except Exception as error:
                self._checkpoint_failed(error)
            else:
                self._checkpoint_succeeded()

    def _checkpoint_failed(self, error: Exception) -> None:
        reason = _reason(error)
        self._failure = reason
        self._failures_in_a_row += 1
        now = time.monotonic()
        last = "none yet" if self._last_good_at is None else age_text(self._last_good_at)
        if reason not in self._reported:
            self._reported.add(reason)
            self._reminded_at = now
            what = "skipped" if isinstance(error, TimeoutError) else "failed"
            self.warn(
                f"checkpoint {what} ({reason}); the last good one ({last}) in "
                f"{self.store.directory} is kept, and the next interval tries again"
            )
        elif now - self._reminded_at >= FAILING_REMINDER_SECONDS:
            self._reminded_at = now
            self.warn(
                f"checkpoints still failing ({self._failures_in_a_row} in a row, last: "
                f"{reason}); the last good one is {last}"
            )

    def _checkpoint_succeeded(self) -> None:
        if self._failure is not None:
            self.warn(f"checkpoints work again, after {self._failures_in_a_row} failed")
        self._failure = None
        self._failures_in_a_row = 0
        self._reported.clear()

    def checkpoint_health(self) -> CheckpointHealth:
        return CheckpointHealth(
            enabled=self.checkpoint_seconds > 0,
            last_good_at=self._last_good_at,
            failure=self._failure,
            failures_in_a_row=self._failures_in_a_row,
        )

    def stop_checkpoints(self) -> None:
        self._stop_checkpoints.set()
        if self._checkpointer is not None:
            self._checkpointer.join(timeout=30)
            self._checkpointer = None
