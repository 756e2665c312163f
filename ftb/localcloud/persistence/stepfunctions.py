"""Step Functions: every execution with its status, input, output, error and history.

An execution that ended is restored as it was (status, dates, output or error, full history).
An execution still RUNNING at the save is restored by running it again from its first state,
under the same name, ARN and input: its partial history is dropped, since moto's engine cannot
resume an ASL program mid-state. It had not reached a terminal outcome before the save, so the
run after the restore gives it its one terminal outcome. Its side effects before the save
(a function invocation, a dead-letter message) may happen a second time: like Lambda and
Step Functions' own redrive, the workflow's tasks are delivered at least once.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime
from typing import Any

from ftb.localcloud.moto_internals import backends
from ftb.localcloud.moto_internals.stepfunctions import execution_status, new_execution
from ftb.localcloud.persistence.codec import Frozen, date_in, date_out

RUNNING = "RUNNING"


def capture(region: str, ended: dict[int, dict[str, Any]] | None = None) -> dict[str, Any]:
    """`ended`: captures of ended executions from earlier checkpoints, by execution object.
    An ended execution never changes, and copying its history is most of a capture's cost
    (moto deep-copies it), so each is captured once."""
    backend = backends.stepfunctions(region)
    ended = {} if ended is None else ended
    machines = {}
    for machine in list(backend.state_machines):
        executions = []
        for execution in list(machine.executions):
            if execution.exec_status is None:
                continue  # being created by StartExecution right now: its message is kept
            known = ended.get(id(execution))
            if known is not None and known["arn"] == execution.exec_arn:
                executions.append(known)
                continue
            status = execution.status
            saved = {
                "name": execution.name,
                "arn": execution.exec_arn,
                "status": status,
                "input": execution.input_data,
                "startDate": date_out(execution.start_date),
                "traceHeader": execution.trace_header,
            }
            if status != RUNNING:
                saved = Frozen(
                    saved,
                    stopDate=date_out(execution.stop_date),
                    output=execution.output,
                    error=execution.error,
                    cause=execution.cause,
                    # moto keeps history timestamps as ISO 8601 text already
                    history=execution.to_history_output()["events"],
                )
                ended[id(execution)] = saved
            executions.append(saved)
        machines[machine.arn] = {"executions": executions}
    return {"stateMachines": machines}


def running_count(region: str) -> int:
    """Executions running now in this process (what a graceful stop waits for)."""
    backend = backends.stepfunctions(region)
    return sum(
        1
        for machine in list(backend.state_machines)
        for execution in list(machine.executions)
        if execution.exec_status is not None and execution.status == RUNNING
    )


def execution_count(document: dict[str, Any]) -> tuple[int, int]:
    """(ended, running) executions in a capture."""
    executions = [e for m in document["stateMachines"].values() for e in m["executions"]]
    running = sum(1 for e in executions if e["status"] == RUNNING)
    return len(executions) - running, running


def restore(
    document: dict[str, Any], region: str, ended: dict[int, dict[str, Any]] | None = None
) -> tuple[int, int]:
    """Put ended executions back and start the interrupted ones again: (restored, re-run).
    `ended` learns the restored ones, so the next checkpoint does not capture them again."""
    backend = backends.stepfunctions(region)
    restored, rerun = 0, 0
    to_start: list[Any] = []
    for arn, saved_machine in document["stateMachines"].items():
        machine = backend.describe_state_machine(arn)
        for saved in saved_machine["executions"]:
            rerunning = saved["status"] == RUNNING
            # As StartExecution does: the execution runs a snapshot of the definition.
            instance = (
                copy.deepcopy(
                    machine, {id(machine.executions): [], id(machine.backend): machine.backend}
                )
                if rerunning
                else machine
            )
            execution = new_execution(
                name=saved["name"],
                sm_type=instance.sm_type,
                role_arn=instance.roleArn,
                exec_arn=saved["arn"],
                account_id=backend.account_id,
                region_name=region,
                state_machine=instance,
                start_date=datetime.fromisoformat(saved["startDate"]),
                cloud_watch_logging_session=None,
                input_data=json.dumps(saved["input"]),
                trace_header=saved["traceHeader"],
                activity_store={},
            )
            if rerunning:
                to_start.append(execution)
                rerun += 1
            else:
                execution.exec_status = execution_status(saved["status"])
                execution.stop_date = date_in(saved["stopDate"])
                execution.output = saved["output"]
                execution.error = saved["error"]
                execution.cause = saved["cause"]
                execution.exec_worker = _EndedWorker(saved["history"])  # type: ignore[assignment]
                if ended is not None:
                    ended[id(execution)] = Frozen(saved)
                restored += 1
            machine.executions.append(execution)
    for execution in to_start:
        execution.start()
    return restored, rerun


class _NoCallbacks:
    """An ended execution waits for no task token and holds no map run."""

    def notify(self, callback_id: str, outcome: Any) -> bool:
        return False

    def heartbeat(self, callback_id: str) -> bool:
        return False

    def get(self, arn: str) -> None:
        return None

    def get_all(self) -> list[Any]:
        return []


class _History:
    def __init__(self, events: list[dict[str, Any]]) -> None:
        self._events = events

    def get_event_history(self) -> list[dict[str, Any]]:
        return copy.deepcopy(self._events)


class _EndedEnvironment:
    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.event_manager = _History(events)
        self.callback_pool_manager = _NoCallbacks()
        self.map_run_record_pool_manager = _NoCallbacks()


class _EndedWorker:
    """Stands in for the worker of an execution that ended before the restore: what moto's
    backend reads of a worker (the history, callbacks, map runs) answered from the save."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.env = _EndedEnvironment(events)

    def stop(self, stop_date: datetime, error: str | None, cause: str | None) -> None:
        return None  # an ended execution stays as it ended
