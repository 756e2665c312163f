"""What the FIS Lambda extension does inside an invocation, at the local runtime's hook
(the same `before_invoke`/`after_invoke` the `--faults` injection uses).

AWS (https://docs.aws.amazon.com/fis/latest/userguide/use-lambda-actions.html): the extension
proxies the Runtime API; each active action applies to `invocationPercentage` of the
invocations; different actions on one function all apply (a delay, then an error), while of
two identical or conflicting ones (invocation-error and http-integration-response) only the
earliest started applies. invocation-add-delay waits before the handler starts, and a delay
past the function's timeout is a timeout; with preventExecution the handler does not run,
otherwise it runs and its answer is replaced.

AWS does not document the error document the extension reports for invocation-error, so the
local one names itself (`errorType` FIS_ERROR_TYPE) and the action that injected it.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ftb.localcloud.fis.model import ADD_DELAY, HTTP_RESPONSE, INVOCATION_ERROR, ActionSpec
from ftb.localcloud.lambda_runtime import FunctionSpec, InvokeResult, function_error

FIS_ERROR_TYPE = "FaultInjectionService.InvocationError"


@dataclass(frozen=True)
class ActiveAction:
    experiment_id: str
    action: ActionSpec
    started: float  # time.monotonic() when it started: the earliest wins a conflict


class FisInjector:
    """The actions under way, per function ARN; consulted around every invocation."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._lock = threading.Lock()
        self._active: dict[str, list[ActiveAction]] = {}
        self._pending: dict[int, InvokeResult] = {}  # thread -> replacement after the handler
        self._random = rng or random.Random()
        self.counters: Counter[str] = Counter()

    # -- the experiments' side ------------------------------------------------------------

    def activate(self, function_arns: list[str], active: ActiveAction) -> None:
        with self._lock:
            for arn in function_arns:
                self._active.setdefault(arn, []).append(active)

    def deactivate(self, function_arns: list[str], active: ActiveAction) -> None:
        with self._lock:
            for arn in function_arns:
                remaining = [a for a in self._active.get(arn, []) if a is not active]
                if remaining:
                    self._active[arn] = remaining
                else:
                    self._active.pop(arn, None)

    def active_on(self, function_arn: str) -> list[ActiveAction]:
        with self._lock:
            return list(self._active.get(function_arn, ()))

    # -- the runtime's side ---------------------------------------------------------------

    def _applies(self, action: ActionSpec) -> bool:
        with self._lock:
            return self._random.random() * 100 < action.percentage

    def _count(self, key: str) -> None:
        with self._lock:
            self.counters[key] += 1

    def before_invoke(self, spec: FunctionSpec, payload: bytes) -> InvokeResult | None:
        thread = threading.get_ident()
        if self._pending:
            with self._lock:
                self._pending.pop(thread, None)  # a stale one: its invocation raised
        if not self._active:
            return None
        actions = self.active_on(spec.arn)
        if not actions:
            return None
        delays = [a for a in actions if a.action.action_id == ADD_DELAY]
        if delays:
            delay = min(delays, key=lambda a: a.started).action
            if self._applies(delay):
                self._count(f"{spec.name}.{ADD_DELAY}")
                seconds = int(delay.parameters.get("startupDelayMilliseconds", "1000")) / 1000
                if seconds >= spec.timeout_seconds:
                    time.sleep(spec.timeout_seconds)
                    return _timed_out(spec)
                time.sleep(seconds)
        answers = [a for a in actions if a.action.action_id in {INVOCATION_ERROR, HTTP_RESPONSE}]
        if not answers:
            return None
        first = min(answers, key=lambda a: a.started)
        if not self._applies(first.action):
            return None
        self._count(f"{spec.name}.{first.action.action_id}")
        result = _answer(spec, first)
        if first.action.prevent_execution:
            return result
        with self._lock:
            self._pending[thread] = result  # the handler runs; its answer is replaced
        return None

    def after_invoke(
        self, spec: FunctionSpec, payload: bytes, result: InvokeResult
    ) -> InvokeResult:
        if not self._pending:
            return result
        with self._lock:
            replacement = self._pending.pop(threading.get_ident(), None)
        return replacement if replacement is not None else result


def _answer(spec: FunctionSpec, active: ActiveAction) -> InvokeResult:
    action = active.action
    if action.action_id == INVOCATION_ERROR:
        return function_error(
            {
                "errorType": FIS_ERROR_TYPE,
                "errorMessage": (
                    f"Invocation error injected by AWS FIS (experiment {active.experiment_id}, "
                    f"action {action.name}) in {spec.name}"
                ),
            }
        )
    # A Lambda proxy integration's answer: API Gateway, ALB and VPC Lattice map it.
    document = {
        "statusCode": int(action.parameters["statusCode"]),
        "headers": {"Content-Type": action.parameters["contentTypeHeader"]},
        "body": "",
    }
    return InvokeResult(200, json.dumps(document).encode("utf-8"), None)


def _timed_out(spec: FunctionSpec) -> InvokeResult:
    return function_error(
        {
            "errorType": "Sandbox.Timedout",
            "errorMessage": f"Task timed out after {spec.timeout_seconds:.2f} seconds",
        }
    )


class _Chain:
    """Several fault layers at the runtime's one hook: the first to answer before the
    handler wins (the layers before it still see its answer after), and every layer may
    replace the answer after, the last layer first."""

    def __init__(self, layers: list[Any]) -> None:
        self.layers = layers

    def before_invoke(self, spec: FunctionSpec, payload: bytes) -> InvokeResult | None:
        for index, layer in enumerate(self.layers):
            answer = layer.before_invoke(spec, payload)
            if answer is not None:
                for earlier in reversed(self.layers[:index]):
                    answer = earlier.after_invoke(spec, payload, answer)
                return answer  # type: ignore[no-any-return]
        return None

    def after_invoke(
        self, spec: FunctionSpec, payload: bytes, result: InvokeResult
    ) -> InvokeResult:
        for layer in reversed(self.layers):
            result = layer.after_invoke(spec, payload, result)
        return result

    def worker_environment(self, spec: FunctionSpec) -> dict[str, str]:
        env: dict[str, str] = {}
        for layer in self.layers:
            extra = getattr(layer, "worker_environment", None)
            if extra is not None:
                env.update(extra(spec))
        return env


def chain_faults(*layers: Any) -> Any:
    """The runtime's `faults`: the layers given (None skipped), one object."""
    present = [layer for layer in layers if layer is not None]
    if len(present) == 1:
        return present[0]
    return _Chain(present) if present else None
