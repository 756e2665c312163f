"""Executions as DescribeExecution and ListExecutions describe them (API reference, Step
Functions: DescribeExecution, ListExecutions, ExecutionListItem).

Read from moto's engine objects (`moto.stepfunctions.parser.backend.execution.Execution`):
name, ARNs, status, dates, input and output with their details, error and cause, and the
redrive fields the console shows. Executions are never redriven locally (RedriveExecution is
refused: moto's engine cannot re-enter an ended execution at its failed state), so
`redriveCount` is 0 and `redriveStatus` is never REDRIVABLE: the endpoint does not claim
what it refuses. A RUNNING or SUCCEEDED execution (or one past AWS's 14-day period) gets AWS's
documented reason; a FAILED, TIMED_OUT or ABORTED one, which AWS would call REDRIVABLE, says
that this endpoint refuses the redrive and how a task is run again (a new run).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from ftb.localcloud.stepfunctions_reads.history import epoch_seconds
from ftb.localcloud.stepfunctions_reads.paging import (
    StatesError,
    page_size,
    take_page,
    validation_error,
)

STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")
REDRIVE_FILTERS = ("REDRIVEN", "NOT_REDRIVEN")
_REDRIVABLE_STATUSES = {"FAILED", "TIMED_OUT", "ABORTED"}
_REDRIVE_PERIOD = timedelta(days=14)
_DETAILS_INCLUDED = {"included": True}


def status_of(execution: Any) -> str:
    status = execution.exec_status
    return str(getattr(status, "value", status) or "RUNNING")


def describe(execution: Any, now: datetime | None = None) -> dict[str, Any]:
    """DescribeExecution's answer for one execution."""
    status = status_of(execution)
    document: dict[str, Any] = {
        "executionArn": execution.exec_arn,
        "stateMachineArn": _state_machine_arn(execution),
        "name": execution.name,
        "status": status,
        "startDate": epoch_seconds(execution.start_date),
        "input": _json_text(execution.input_data),
        "inputDetails": dict(_DETAILS_INCLUDED),
        "redriveCount": 0,
    }
    version_arn = _version_arn(execution)
    if version_arn is not None:
        document["stateMachineVersionArn"] = version_arn
    if execution.trace_header:
        document["traceHeader"] = execution.trace_header
    if status != "RUNNING" and execution.stop_date is not None:
        document["stopDate"] = epoch_seconds(execution.stop_date)
    if status == "SUCCEEDED":
        document["output"] = _json_text(execution.output)
        document["outputDetails"] = dict(_DETAILS_INCLUDED)
    if execution.error is not None:
        document["error"] = execution.error
    if execution.cause is not None:
        document["cause"] = execution.cause
    document.update(_redrive(status, execution.stop_date, now or datetime.now(UTC)))
    return document


def list_item(execution: Any) -> dict[str, Any]:
    """One ExecutionListItem."""
    status = status_of(execution)
    item: dict[str, Any] = {
        "executionArn": execution.exec_arn,
        "stateMachineArn": _state_machine_arn(execution),
        "name": execution.name,
        "status": status,
        "startDate": epoch_seconds(execution.start_date),
        "redriveCount": 0,
    }
    if status != "RUNNING" and execution.stop_date is not None:
        item["stopDate"] = epoch_seconds(execution.stop_date)
    version_arn = _version_arn(execution)
    if version_arn is not None:
        item["stateMachineVersionArn"] = version_arn
    return item


def check_list_request(request: dict[str, Any]) -> tuple[int, str | None, str | None]:
    """ListExecutions' page size, status and redrive filters, validated as AWS validates its
    input. Map runs never exist locally (the workflows run no distributed Map), so a
    `mapRunArn` names nothing: ResourceNotFound."""
    size = page_size(request.get("maxResults"))
    status_filter = request.get("statusFilter")
    if status_filter is not None and status_filter not in STATUSES:
        raise validation_error(
            "statusFilter",
            status_filter,
            f"Member must satisfy enum value set: [{', '.join(STATUSES)}]",
        )
    redrive_filter = request.get("redriveFilter")
    if redrive_filter is not None and redrive_filter not in REDRIVE_FILTERS:
        raise validation_error(
            "redriveFilter",
            redrive_filter,
            f"Member must satisfy enum value set: [{', '.join(REDRIVE_FILTERS)}]",
        )
    if request.get("mapRunArn") is not None:
        raise StatesError("ResourceNotFound", f"Resource not found: '{request['mapRunArn']}'")
    return size, status_filter, redrive_filter


def list_page(executions: list[Any], request: dict[str, Any]) -> dict[str, Any]:
    """ListExecutions' answer: newest first ("sorted by time, with the most recent execution
    first"), filtered by `statusFilter` and `redriveFilter` (nothing is ever redriven locally:
    REDRIVEN lists none), paged."""
    size, status_filter, redrive_filter = check_list_request(request)
    if redrive_filter == "REDRIVEN":
        executions = []
    chosen = [e for e in executions if status_filter is None or status_of(e) == status_filter]
    # Newest first; the ARN breaks ties so that the order (and so the paging) is total.
    chosen.sort(key=lambda e: (-epoch_seconds(e.start_date), e.exec_arn))
    machine = str(request.get("stateMachineArn"))
    scope = "|".join(("ListExecutions", machine, str(status_filter), str(redrive_filter)))
    page = take_page(
        chosen,
        lambda e: [-epoch_seconds(e.start_date), e.exec_arn],
        size,
        scope,
        request.get("nextToken"),
    )
    document: dict[str, Any] = {"executions": [list_item(e) for e in page.items]}
    if page.next_token is not None:
        document["nextToken"] = page.next_token
    return document


# What a FAILED, TIMED_OUT or ABORTED execution says instead of AWS's REDRIVABLE.
LOCAL_REDRIVE_REASON = (
    "RedriveExecution is not available on the local endpoint (it is refused); "
    "a task is run again as a new execution (ftb redrive)"
)


def _redrive(status: str, stop_date: Any, now: datetime) -> dict[str, Any]:
    if status in _REDRIVABLE_STATUSES:
        stopped = datetime.fromtimestamp(epoch_seconds(stop_date), UTC) if stop_date else now
        if now - stopped <= _REDRIVE_PERIOD:
            return {"redriveStatus": "NOT_REDRIVABLE", "redriveStatusReason": LOCAL_REDRIVE_REASON}
        reason = "Execution redrivable period exceeded"
    else:
        reason = f"Execution is {status} and cannot be redriven"
    return {"redriveStatus": "NOT_REDRIVABLE", "redriveStatusReason": reason}


def _json_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _state_machine_arn(execution: Any) -> str:
    machine = execution.state_machine
    return str(getattr(machine, "source_arn", None) or execution.state_machine_arn)


def _version_arn(execution: Any) -> str | None:
    machine = execution.state_machine
    source = getattr(machine, "source_arn", None)
    return str(machine.arn) if source else None
