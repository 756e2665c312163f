"""One experiment's run: resolve the targets, run the actions in `startAfter` order for their
durations, watch the stop conditions, and keep the states FIS reports.

States as FIS reports them (botocore's model): the experiment pending -> initiating ->
running -> completed | stopping -> stopped | failed; each action pending -> running ->
completed | cancelled (never started) | stopping -> stopped | failed. A stop condition is
checked by reading its alarm through CloudWatch's DescribeAlarms, every `poll_seconds`: an
alarm in ALARM stops the experiment (AWS: "If a stop condition is triggered during an
experiment, AWS FIS stops the experiment").
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ftb.localcloud.fis.injector import ActiveAction, FisInjector
from ftb.localcloud.fis.model import (
    ALARM_SOURCE,
    LAMBDA_ACTIONS,
    LAMBDA_FUNCTION,
    ActionSpec,
    ExperimentTemplate,
    TargetSpec,
)

# alarm names -> their StateValue (an alarm that does not exist is absent)
AlarmStates = Callable[[list[str]], dict[str, str]]
TICK_SECONDS = 0.05
DEFAULT_POLL_SECONDS = 1.0

REASON_COMPLETED = "Experiment completed."
REASON_USER = "Experiment stopped by user."
REASON_STOP_CONDITION = "Experiment stopped by stop condition."


@dataclass(frozen=True)
class FunctionTarget:
    """A function the local cloud runs, as FIS sees it for target resolution."""

    arn: str
    name: str
    tags: dict[str, str]
    configuration: dict[str, Any]  # GetFunction's Configuration, for target filters


def alarm_name(arn: str) -> str:
    """`arn:aws:cloudwatch:<region>:<account>:alarm:<name>` -> the alarm's name."""
    _, sep, name = arn.partition(":alarm:")
    if sep:
        return name
    return arn.rsplit("/", 1)[-1]  # a placeholder ARN of a not-emulated alarm


def _path_values(document: Any, path: str) -> list[str]:
    value = document
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return []
        value = value[part]
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


@dataclass
class ActionRun:
    spec: ActionSpec
    status: str = "pending"
    reason: str = ""
    start: float | None = None
    end: float | None = None
    ends_at: float | None = None  # monotonic
    active: ActiveAction | None = None
    functions: list[str] = field(default_factory=list)

    def to_api(self) -> dict[str, Any]:
        document = self.spec.to_api()
        document["state"] = {"status": self.status, "reason": self.reason}
        if self.start is not None:
            document["startTime"] = self.start
        if self.end is not None:
            document["endTime"] = self.end
        return document


class Experiment:
    def __init__(
        self,
        experiment_id: str,
        arn: str,
        template: ExperimentTemplate,
        *,
        functions: list[FunctionTarget],
        injector: FisInjector,
        alarm_states: AlarmStates,
        tags: dict[str, str] | None = None,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        rng: random.Random | None = None,
        on_change: Callable[[Experiment, str], None] | None = None,
    ) -> None:
        self.id = experiment_id
        self.arn = arn
        self.template = template
        self.functions = functions
        self.injector = injector
        self.alarm_states = alarm_states
        self.tags = dict(tags or {})
        self.poll_seconds = poll_seconds
        self.random = rng or random.Random()
        self.on_change = on_change or (lambda _experiment, _line: None)
        self.created = time.time()
        self.start: float | None = None
        self.end: float | None = None
        self.status = "pending"
        self.reason = "Experiment is pending."
        self.error: dict[str, str] | None = None
        self.actions = {name: ActionRun(spec) for name, spec in template.actions.items()}
        self.resolved: dict[str, list[str]] = {}
        self._lock = threading.RLock()
        self._stop_requested = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"fis-{experiment_id}", daemon=True)

    # -- API ------------------------------------------------------------------------------

    def begin(self) -> None:
        self._thread.start()

    def request_stop(self) -> None:
        with self._lock:
            if self.status in {"pending", "initiating", "running"}:
                self._set("stopping", "Experiment is stopping.")
        self._stop_requested.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    @property
    def finished(self) -> bool:
        return self.status in {"completed", "stopped", "failed", "cancelled"}

    def to_api(self) -> dict[str, Any]:
        with self._lock:
            state: dict[str, Any] = {"status": self.status, "reason": self.reason}
            if self.error:
                state["error"] = dict(self.error)
            document: dict[str, Any] = {
                "id": self.id,
                "arn": self.arn,
                "experimentTemplateId": self.template.id,
                "roleArn": self.template.role_arn,
                "state": state,
                "targets": {n: t.to_api() for n, t in self.template.targets.items()},
                "actions": {n: run.to_api() for n, run in self.actions.items()},
                "stopConditions": self.template.to_api()["stopConditions"],
                "creationTime": self.created,
                "tags": dict(self.tags),
            }
            if self.start is not None:
                document["startTime"] = self.start
            if self.end is not None:
                document["endTime"] = self.end
            if self.template.log_configuration:
                document["logConfiguration"] = self.template.log_configuration
            if self.template.experiment_options:
                document["experimentOptions"] = self.template.experiment_options
            return document

    def summary(self) -> dict[str, Any]:
        with self._lock:
            return {
                "id": self.id,
                "arn": self.arn,
                "experimentTemplateId": self.template.id,
                "state": {"status": self.status, "reason": self.reason},
                "creationTime": self.created,
                "tags": dict(self.tags),
            }

    # -- the run --------------------------------------------------------------------------

    def _set(self, status: str, reason: str) -> None:
        with self._lock:
            self.status, self.reason = status, reason
        self.on_change(self, f"{status}: {reason}")

    def _run(self) -> None:
        try:
            self._set("initiating", "Experiment is initiating.")
            failure = self._resolve_targets()
            if failure is not None:
                self._finish("failed", failure)
                return
            if self._stop_requested.is_set():
                self._finish("stopped", REASON_USER)
                return
            self.start = time.time()
            self._set("running", "Experiment is running.")
            self._loop()
        except Exception as error:  # never leave an experiment running half-way
            self._end_actions("failed", f"{type(error).__name__}: {error}")
            self._finish("failed", f"Experiment failed: {error}")

    def _loop(self) -> None:
        next_poll = 0.0
        while True:
            now = time.monotonic()
            if self._stop_requested.is_set():
                self._end_actions("stopped", "Action stopped by user.")
                self._finish("stopped", REASON_USER)
                return
            if now >= next_poll:
                tripped = self._tripped_alarm()
                next_poll = now + self.poll_seconds
                if tripped is not None:
                    with self._lock:
                        self.status = "stopping"
                    self._end_actions("stopped", f"Stop condition {tripped} is in ALARM.")
                    self._finish("stopped", f"{REASON_STOP_CONDITION} Alarm: {tripped}")
                    return
            for run in self.actions.values():
                if run.status == "running" and run.ends_at is not None and now >= run.ends_at:
                    self._complete(run)
            for run in self.actions.values():
                if run.status == "pending" and all(
                    self.actions[before].status == "completed" for before in run.spec.start_after
                ):
                    self._begin_action(run)
            if all(run.status == "completed" for run in self.actions.values()):
                self._finish("completed", REASON_COMPLETED)
                return
            time.sleep(TICK_SECONDS)

    def _finish(self, status: str, reason: str) -> None:
        with self._lock:
            self.end = time.time()
        self._set(status, reason)

    def _tripped_alarm(self) -> str | None:
        names = [
            alarm_name(value)
            for source, value in self.template.stop_conditions
            if source == ALARM_SOURCE and value
        ]
        if not names:
            return None
        states = self.alarm_states(names)
        return next((name for name in names if states.get(name) == "ALARM"), None)

    def _begin_action(self, run: ActionRun) -> None:
        spec = run.spec
        with self._lock:
            run.status, run.reason = "running", "Action is running."
            run.start = time.time()
            run.ends_at = time.monotonic() + spec.duration_seconds
        if spec.action_id in LAMBDA_ACTIONS:
            run.functions = list(self.resolved.get(spec.targets["Functions"], []))
            run.active = ActiveAction(self.id, spec, time.monotonic())
            self.injector.activate(run.functions, run.active)
        self.on_change(self, f"action {spec.name} ({spec.action_id}) running")

    def _release(self, run: ActionRun) -> None:
        if run.active is not None:
            self.injector.deactivate(run.functions, run.active)
            run.active = None

    def _complete(self, run: ActionRun) -> None:
        self._release(run)
        with self._lock:
            run.status, run.reason, run.end = "completed", "Action completed.", time.time()
        self.on_change(self, f"action {run.spec.name} completed")

    def _end_actions(self, status: str, reason: str) -> None:
        for run in self.actions.values():
            self._release(run)
            with self._lock:
                if run.status == "running":
                    run.status, run.reason, run.end = status, reason, time.time()
                elif run.status == "pending":
                    run.status, run.reason = "cancelled", "Action was cancelled."

    # -- targets --------------------------------------------------------------------------

    def _resolve_targets(self) -> str | None:
        """Resolve every target of an action; the reason of the failure, else None."""
        for action in self.template.actions.values():
            if action.action_id not in LAMBDA_ACTIONS and action.action_id != "aws:fis:wait":
                return (
                    f"Action {action.name}: {action.action_id} is not emulated by the local "
                    "cloud (only aws:lambda:invocation-* and aws:fis:wait)"
                )
        used = {target for a in self.template.actions.values() for target in a.targets.values()}
        for name in sorted(used):
            target = self.template.targets[name]
            if target.resource_type != LAMBDA_FUNCTION:
                return f"Target {name}: resource type {target.resource_type} is not emulated"
            picked = self._pick(target)
            if not picked:
                return f"Target resolution failed: no resources found for target {name}"
            self.resolved[name] = picked
        return None

    def _pick(self, target: TargetSpec) -> list[str]:
        if target.resource_arns:
            known = {function.arn: function for function in self.functions}
            candidates = [known[arn] for arn in target.resource_arns if arn in known]
        else:
            candidates = [
                function
                for function in self.functions
                if all(function.tags.get(k) == v for k, v in target.resource_tags.items())
            ]
        candidates = [
            function
            for function in candidates
            if all(
                set(_path_values({"Configuration": function.configuration}, path)) & set(values)
                for path, values in target.filters
            )
        ]
        size = target.selection.size(len(candidates))
        chosen = candidates if size == len(candidates) else self.random.sample(candidates, size)
        return [function.arn for function in chosen]
