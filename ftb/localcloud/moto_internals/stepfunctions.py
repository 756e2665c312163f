"""moto's Step Functions engine objects that snapshots rebuild (persistence/stepfunctions.py)."""

from __future__ import annotations

from typing import Any


def new_execution(**fields: Any) -> Any:
    """An engine execution (`Execution(...)` with these keyword fields), not started."""
    from moto.stepfunctions.parser.backend.execution import Execution

    return Execution(**fields)


def execution_status(status: str) -> Any:
    """The engine's status value for a status name (SUCCEEDED, FAILED, ...)."""
    from moto.stepfunctions.parser.api import ExecutionStatus

    return ExecutionStatus(status)
