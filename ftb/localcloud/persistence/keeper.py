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

Say = Callable[[str], None]


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
    ) -> None:
        self.store = SnapshotStore(directory)
        self.region = region
        self.say = say
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
        self._calls_at_last_save = calls
        self._functions_at_last_save = services["functions"]
        document = {
            "savedAt": time.time(),
            "shape": current_shape,
            "fingerprint": shape.fingerprint(current_shape),
            "services": services,
        }
        return Capture(document, time.perf_counter() - started)

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
        while not self._stop_checkpoints.wait(self.next_checkpoint_in()):
            if not self._changed_since_last_save():
                continue
            try:
                self.save()
            except TimeoutError as error:
                self.say(f"checkpoint skipped ({error}); the next one follows")
            except OSError as error:
                self.say(f"checkpoint failed: cannot write {self.store.path} ({error})")

    def stop_checkpoints(self) -> None:
        self._stop_checkpoints.set()
        if self._checkpointer is not None:
            self._checkpointer.join(timeout=30)
            self._checkpointer = None
