"""What the runtime runs and answers: a function's specification, an invocation's result."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

DEFAULT_ACCOUNT_ID = "123456789012"
LATEST = "$LATEST"


@dataclass(frozen=True)
class FunctionSpec:
    name: str  # the function name (physical)
    arn: str
    code_dir: Path  # the asset directory (like /var/task)
    handler: str  # "module.function"
    environment: dict[str, str]  # the template's variables only
    timeout_seconds: float = 3
    memory_mb: int = 128
    reserved_concurrency: int | None = None
    log_group: str | None = None  # default /aws/lambda/<name>

    @property
    def log_group_name(self) -> str:
        return self.log_group or f"/aws/lambda/{self.name}"


@dataclass(frozen=True)
class InvokeResult:
    status_code: int  # 200 for RequestResponse, 202 for Event, 204 for DryRun
    payload: bytes
    function_error: str | None  # "Unhandled" like Lambda, else None
    executed_version: str = LATEST

    def error_document(self) -> dict[str, Any] | None:
        """The {"errorType", "errorMessage", ...} of a function error, else None."""
        if self.function_error is None:
            return None
        return json.loads(self.payload)  # type: ignore[no-any-return]


class InvokeFaults(Protocol):
    """Fault injection: consulted around every invocation (synchronous or not).

    `before_invoke` may answer instead of the function (return a result, or raise a
    LambdaServiceError such as TooManyRequestsError); `after_invoke` may replace the result.
    """

    def before_invoke(self, spec: FunctionSpec, payload: bytes) -> InvokeResult | None: ...

    def after_invoke(
        self, spec: FunctionSpec, payload: bytes, result: InvokeResult
    ) -> InvokeResult: ...


def function_error(document: dict[str, Any]) -> InvokeResult:
    return InvokeResult(200, json.dumps(document).encode("utf-8"), "Unhandled")
