"""Ships each execution's events to its state machine's log group while it runs.

A thread reads the executions through the endpoint's own Step Functions API (in process, the
same answers a client gets): new executions from the top of ListExecutions (newest first),
then GetExecutionHistory of each one not yet fully shipped, and puts the events it has not
put yet into one log stream per execution, `states/<state machine>/<start minute>/<id>`, as
Step Functions names them. A state machine's LoggingConfiguration (level, destination,
includeExecutionData) is read at every pass, so a hot reload that changes it applies at once.

After a restart the executions that had ended before it were shipped by the earlier process
(their log events are part of the saved state): `seed()` marks them done. An execution that
runs again after the restore (docs/decisions.md, "An execution running at the save runs again
after the restore") is shipped from its first event, as its new history is.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ftb.localcloud.stepfunctions_logs.records import log_message, log_record, logged_types
from ftb.localcloud.stepfunctions_reads.history import epoch_seconds

LIST_PAGE = 100
MAX_BATCH = 1000  # PutLogEvents' limit on events per call
Say = Callable[[str], None]


@dataclass
class _Execution:
    arn: str
    stream: str
    shipped: int = 0  # the highest event id put so far
    stream_made: bool = False


@dataclass
class _Machine:
    arn: str
    name: str
    known: set[str] = field(default_factory=set)


def log_group_name(logging_configuration: dict[str, Any]) -> str | None:
    """The destination's log group name (its ARN is `...:log-group:NAME:*`)."""
    for destination in logging_configuration.get("destinations") or []:
        arn = (destination.get("cloudWatchLogsLogGroup") or {}).get("logGroupArn") or ""
        if ":log-group:" in arn:
            return str(arn.split(":log-group:", 1)[1].removesuffix(":*"))
    return None


def stream_name(machine_name: str, execution_arn: str, started: Any) -> str:
    minute = datetime.fromtimestamp(epoch_seconds(started), UTC).strftime("%Y-%m-%d-%H-%M")
    digest = hashlib.sha256(execution_arn.encode()).hexdigest()[:8]
    return f"states/{machine_name}/{minute}/{digest}"


class ExecutionLogShipper:
    def __init__(
        self,
        stepfunctions: Any,
        logs: Any,
        state_machine_arns: Callable[[], list[str]],
        *,
        interval: float = 1.0,
        say: Say | None = None,
    ) -> None:
        self._sfn = stepfunctions
        self._logs = logs
        self._machine_arns = state_machine_arns
        self._interval = interval
        self._say = say
        self._machines: dict[str, _Machine] = {}
        self._active: dict[str, _Execution] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_error: str | None = None

    # -- the loop -------------------------------------------------------------------------

    def seed(self) -> None:
        """Mark every execution that has already ended as shipped (see the module doc)."""
        for arn in self._machine_arns():
            machine = self._machine(arn)
            if machine is None:
                continue
            pages = self._sfn.get_paginator("list_executions").paginate(stateMachineArn=arn)
            for page in pages:
                for item in page["executions"]:
                    machine.known.add(item["executionArn"])
                    if item["status"] == "RUNNING":
                        self._track(machine, item)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="stepfunctions-logs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.ship_once()  # what ended since the last pass

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.ship_once()

    def ship_once(self) -> None:
        """One pass; an error is said once (until a pass succeeds) and the next pass retries."""
        try:
            for arn in self._machine_arns():
                self._pass(arn)
            self._last_error = None
        except Exception as error:  # the endpoint stopping, a log group deleted...
            message = f"{type(error).__name__}: {error}"
            if message != self._last_error and self._say is not None:
                self._say(f"Step Functions execution logs: {message}; retrying")
            self._last_error = message

    # -- one state machine --------------------------------------------------------------

    def _machine(self, arn: str) -> _Machine | None:
        machine = self._machines.get(arn)
        if machine is None:
            try:
                name = self._sfn.describe_state_machine(stateMachineArn=arn)["name"]
            except self._sfn.exceptions.StateMachineDoesNotExist:
                return None
            machine = self._machines[arn] = _Machine(arn, name)
        return machine

    def _pass(self, arn: str) -> None:
        machine = self._machine(arn)
        if machine is None:
            return
        config = self._sfn.describe_state_machine(stateMachineArn=arn).get(
            "loggingConfiguration"
        ) or {"level": "OFF"}
        group = log_group_name(config)
        level = str(config.get("level") or "OFF")
        for item in self._new_executions(machine):
            self._track(machine, item)
        if group is None or level == "OFF":
            for execution_arn in [a for a in self._active if a.startswith(_prefix(arn))]:
                del self._active[execution_arn]
            return
        wanted = logged_types(level)
        include_data = bool(config.get("includeExecutionData"))
        for execution in [e for a, e in self._active.items() if a.startswith(_prefix(arn))]:
            self._ship(execution, group, wanted, include_data)

    def _new_executions(self, machine: _Machine) -> list[dict[str, Any]]:
        """Executions not seen before, from the newest back to the first one already known."""
        found: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            request: dict[str, Any] = {"stateMachineArn": machine.arn, "maxResults": LIST_PAGE}
            if token:
                request["nextToken"] = token
            page = self._sfn.list_executions(**request)
            fresh = [i for i in page["executions"] if i["executionArn"] not in machine.known]
            found.extend(fresh)
            token = page.get("nextToken")
            if not token or len(fresh) < len(page["executions"]):
                break
        for item in found:
            machine.known.add(item["executionArn"])
        return found

    def _track(self, machine: _Machine, item: dict[str, Any]) -> None:
        arn = item["executionArn"]
        stream = stream_name(machine.name, arn, item["startDate"])
        self._active[arn] = _Execution(arn, stream)

    def _ship(
        self,
        execution: _Execution,
        group: str,
        wanted: Callable[[str], bool],
        include_data: bool,
    ) -> None:
        events: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            request: dict[str, Any] = {"executionArn": execution.arn, "maxResults": 1000}
            if token:
                request["nextToken"] = token
            page = self._sfn.get_execution_history(**request)
            events.extend(page["events"])
            token = page.get("nextToken")
            if not token:
                break
        new = [e for e in events if int(e["id"]) > execution.shipped]
        ended = any(e["type"] in _END_TYPES for e in events)
        lines: list[dict[str, Any]] = [
            {
                "timestamp": round(epoch_seconds(e["timestamp"]) * 1000),
                "message": log_message(log_record(e, execution.arn, include_data=include_data)),
            }
            for e in new
            if wanted(e["type"])
        ]
        if lines:
            if not execution.stream_made:
                with contextlib.suppress(self._logs.exceptions.ResourceAlreadyExistsException):
                    self._logs.create_log_stream(logGroupName=group, logStreamName=execution.stream)
                execution.stream_made = True
            lines.sort(key=lambda line: int(line["timestamp"]))
            for start in range(0, len(lines), MAX_BATCH):
                self._logs.put_log_events(
                    logGroupName=group,
                    logStreamName=execution.stream,
                    logEvents=lines[start : start + MAX_BATCH],
                )
        if new:
            execution.shipped = max(int(e["id"]) for e in new)
        if ended:
            self._active.pop(execution.arn, None)


_END_TYPES = frozenset(
    {"ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"}
)


def _prefix(state_machine_arn: str) -> str:
    """Execution ARNs of a state machine start with this."""
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":"
