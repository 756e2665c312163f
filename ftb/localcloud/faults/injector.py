"""The faults of one running local cloud, consulted by the runtime, the endpoint and the pollers.

What it can do (docs/reliability.md has the failure model and the tests that use it):
- crash: end a function's worker with probability p at a point: `before-call.<service>.<Op>`
  (the side effect never happens), `after-call.<service>.<Op>` (it happened, nobody hears of
  it), `after-handler` (the handler returned, its answer is lost). Real process deaths: the
  worker (worker_hooks.py) calls os._exit; the runtime reports Runtime.ExitError.
- start-execution-throttle: answer a fraction of StartExecution calls with Step Functions'
  ThrottlingException (HTTP 400, like AWS), in the AWS endpoint.
- start-execution-bucket-scale: enforce StartExecution's token bucket (AWS: burst 1,300 and
  300 refills/s in us-east-1, us-west-2 and eu-west-1; 800 and 150/s elsewhere), scaled.
- function-error: fail a function's invocation (e.g. a monitor batch) with probability p,
  `before` it runs or `after` it ran (its work done, its answer replaced by an error).
- sqs-delay: hold a received batch for a random time up to D seconds before invoking.
- visibility-timeout (scaled time, not a fault): a queue's VisibilityTimeout locally, so that
  a crashed batch comes back in seconds instead of minutes.
- esm-max-concurrency (a what-if knob, not a fault): an SQS mapping's MaximumConcurrency
  locally, to compare its effect without changing the stack.

Every injected fault is counted; `GET /_ftb/faults` on the AWS endpoint returns the counters
(and the peak concurrent invocations per function), `POST /_ftb/faults/reset` zeroes them.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from ftb.localcloud.faults.bucket import TokenBucket
from ftb.localcloud.faults.config import FaultConfig
from ftb.localcloud.faults.worker_hooks import (
    CRASHES_VARIABLE,
    EVENTS_VARIABLE,
    SEED_VARIABLE,
)
from ftb.localcloud.lambda_runtime import FunctionSpec, InvokeResult, function_error
from ftb.localcloud.targets import target_matches

START_EXECUTION_TARGET = "AWSStepFunctions.StartExecution"
CONTROL_PATH = "/_ftb/faults"
INJECTED_ERROR_TYPE = "FaultInjected.FunctionError"


def throttling_response() -> Response:
    """What Step Functions answers a throttled call (botocore retries it as a throttle)."""
    body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
    response = Response(body, status=400, content_type="application/x-amz-json-1.0")
    response.headers["x-amzn-ErrorType"] = "ThrottlingException"
    response.headers["x-amzn-RequestId"] = f"ftb-fault-{time.time_ns()}"
    return response


class Faults:
    """The faults of one local cloud: consulted by the runtime, the endpoint and the pollers."""

    def __init__(self, config: FaultConfig, region: str, work_dir: Path) -> None:
        self.config = config
        self.region = region
        self.events_path = work_dir / "fault-events.jsonl"
        self.events_path.touch()
        self._random = random.Random(config.seed) if config.seed is not None else random.Random()
        self._lock = threading.Lock()
        self._counters: Counter[str] = Counter()
        self._delay_seconds: dict[str, float] = {}
        # (function, thread) of each invocation under way: an invocation whose caller thread
        # saw a service error never reaches after_invoke; that thread's next one replaces it.
        self._in_flight: dict[tuple[str, int], float] = {}
        self._peak: Counter[str] = Counter()
        self._invocations: Counter[str] = Counter()
        self._events_baseline = 0
        bucket = config.bucket(region)
        self.bucket = TokenBucket(*bucket) if bucket is not None else None
        self._logical_ids: dict[str, str] = {}  # function name -> logical id

    def _chance(self, probability: float) -> bool:
        if probability <= 0:
            return False
        with self._lock:
            return self._random.random() < probability

    def _count(self, key: str, amount: int = 1) -> None:
        with self._lock:
            self._counters[key] += amount

    def _running(self, function: str) -> int:
        return sum(1 for name, _ in self._in_flight if name == function)

    def _forget_dead_threads(self) -> None:
        alive = {thread.ident for thread in threading.enumerate()}
        with self._lock:
            for key in [key for key in self._in_flight if key[1] not in alive]:
                del self._in_flight[key]

    # -- wiring -------------------------------------------------------------------------

    def bind(self, functions: dict[str, FunctionSpec], queues: Iterable[Any], sqs: Any) -> None:
        """After provisioning: learn logical ids; apply the scaled visibility timeouts."""
        self._logical_ids = {spec.name: logical_id for logical_id, spec in functions.items()}
        for queue in queues:
            for target, seconds in self.config.visibility_timeouts.items():
                if target_matches(target, queue.name, queue.logical_id):
                    sqs.set_queue_attributes(
                        QueueUrl=queue.url, Attributes={"VisibilityTimeout": str(seconds)}
                    )

    def _function_matches(self, target: str, name: str) -> bool:
        return target_matches(target, name, self._logical_ids.get(name, ""))

    # -- the Lambda runtime's hooks -----------------------------------------------------

    def worker_environment(self, spec: FunctionSpec) -> dict[str, str]:
        """FTB_FAULT_* for the function's new workers (crash points), else nothing."""
        points = [
            rule.point.to_json()
            for rule in self.config.crashes
            if self._function_matches(rule.function, spec.name)
        ]
        if not points:
            return {}
        env = {CRASHES_VARIABLE: json.dumps(points), EVENTS_VARIABLE: str(self.events_path)}
        if self.config.seed is not None:
            env[SEED_VARIABLE] = self.config.seed
        return env

    def before_invoke(self, spec: FunctionSpec, payload: bytes) -> InvokeResult | None:
        with self._lock:
            self._invocations[spec.name] += 1
            self._in_flight[(spec.name, threading.get_ident())] = time.monotonic()
            self._peak[spec.name] = max(self._peak[spec.name], self._running(spec.name))
        for rule in self.config.function_errors:
            if (
                rule.when == "before"
                and self._function_matches(rule.function, spec.name)
                and self._chance(rule.probability)
            ):
                self._count(f"functionError.{spec.name}.before")
                with self._lock:
                    self._in_flight.pop((spec.name, threading.get_ident()), None)
                return _injected_error(spec, "before")
        return None

    def after_invoke(
        self, spec: FunctionSpec, payload: bytes, result: InvokeResult
    ) -> InvokeResult:
        with self._lock:
            self._in_flight.pop((spec.name, threading.get_ident()), None)
        for rule in self.config.function_errors:
            if (
                rule.when == "after"
                and self._function_matches(rule.function, spec.name)
                and self._chance(rule.probability)
            ):
                self._count(f"functionError.{spec.name}.after")
                return _injected_error(spec, "after")
        return result

    # -- the AWS endpoint's hook ----------------------------------------------------------

    def intercept(self, environ: dict[str, Any]) -> Response | None:
        """A response instead of moto's (a throttle, the control API), or None."""
        if environ.get("PATH_INFO", "").startswith(CONTROL_PATH):
            return self._control(Request(environ))
        if environ.get("HTTP_X_AMZ_TARGET") != START_EXECUTION_TARGET:
            return None
        self._count("startExecution.calls")
        if self.bucket is not None and not self.bucket.take():
            self._count("startExecution.throttled.bucket")
            return throttling_response()
        if self._chance(self.config.start_execution_throttle):
            self._count("startExecution.throttled.random")
            return throttling_response()
        return None

    def _control(self, request: Request) -> Response:
        if request.method == "POST" and request.path.rstrip("/") == f"{CONTROL_PATH}/reset":
            self.reset()
            return Response(json.dumps({"reset": True}), content_type="application/json")
        if request.method == "GET" and request.path.rstrip("/") == CONTROL_PATH:
            return Response(json.dumps(self.snapshot()), content_type="application/json")
        return Response(
            json.dumps({"message": f"GET {CONTROL_PATH} or POST {CONTROL_PATH}/reset"}),
            status=404,
            content_type="application/json",
        )

    # -- the SQS pollers' hook ------------------------------------------------------------

    def delivery_delay(self, queue_name: str, queue_id: str, function: str) -> float:
        """Seconds to hold a received batch before invoking (0: none)."""
        longest = 0.0
        for target, seconds in self.config.sqs_delays.items():
            if target_matches(target, queue_name, queue_id, function):
                longest = max(longest, seconds)
        if longest <= 0:
            return 0.0
        with self._lock:
            delay = self._random.uniform(0, longest)
            self._counters[f"sqsDelay.{queue_name}.batches"] += 1
            self._delay_seconds[queue_name] = self._delay_seconds.get(queue_name, 0.0) + delay
        return delay

    def mapping_concurrency(self, queue_name: str, function: str, wanted: int) -> int:
        """The pollers of a mapping: the what-if MaximumConcurrency, else the template's."""
        for target, count in self.config.mapping_concurrency.items():
            if target_matches(target, queue_name, function):
                return count
        return wanted

    # -- counters -------------------------------------------------------------------------

    def _crash_events(self) -> list[dict[str, Any]]:
        try:
            lines = self.events_path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        events = []
        for line in lines[self._events_baseline :]:
            try:
                events.append(json.loads(line))
            except ValueError:
                continue  # a line being written
        return events

    def reset(self) -> None:
        try:
            total = len(self.events_path.read_text(encoding="utf-8").splitlines())
        except OSError:
            total = 0
        with self._lock:
            self._counters.clear()
            self._delay_seconds.clear()
            self._invocations.clear()
            self._peak = Counter(name for name, _ in self._in_flight)
            self._events_baseline = total

    def saved_counters(self) -> dict[str, Any]:
        """What a restart keeps (ftb/localcloud/persistence/faults.py): counters, not config."""
        with self._lock:
            return {
                "counters": dict(self._counters),
                "delaySeconds": dict(self._delay_seconds),
                "invocations": dict(self._invocations),
                "crashEvents": self._crash_events(),
            }

    def restore_counters(self, saved: dict[str, Any]) -> None:
        """Carry on counting from a saved run: the worker crash events go back to the log."""
        lines = "".join(json.dumps(event) + "\n" for event in saved.get("crashEvents", []))
        with self._lock:
            self._counters.update(saved.get("counters", {}))
            for queue, seconds in saved.get("delaySeconds", {}).items():
                self._delay_seconds[queue] = self._delay_seconds.get(queue, 0.0) + seconds
            self._invocations.update(saved.get("invocations", {}))
            with open(self.events_path, "a", encoding="utf-8") as log:
                log.write(lines)

    def snapshot(self) -> dict[str, Any]:
        crashes: dict[str, dict[str, int]] = {}
        for event in self._crash_events():
            per_function = crashes.setdefault(str(event.get("function")), {})
            point = str(event.get("point"))
            per_function[point] = per_function.get(point, 0) + 1
        self._forget_dead_threads()
        with self._lock:
            counters = dict(self._counters)
            delays = {queue: round(seconds, 3) for queue, seconds in self._delay_seconds.items()}
            invocations = {
                name: {
                    "invocations": self._invocations[name],
                    "inFlight": self._running(name),
                    "peakInFlight": self._peak[name],
                }
                for name in sorted(set(self._invocations) | set(self._peak))
            }
        bucket = None
        if self.bucket is not None:
            bucket = {
                "burst": self.bucket.burst,
                "refillPerSecond": self.bucket.rate,
                "tokens": round(self.bucket.tokens, 2),
            }
        return {
            "enabled": True,
            "faults": self.config.describe(self.region),
            "counters": counters,
            "workerCrashes": crashes,
            "workerCrashesTotal": sum(sum(points.values()) for points in crashes.values()),
            "sqsDelaySeconds": delays,
            "functions": invocations,
            "startExecutionBucket": bucket,
        }


def _injected_error(spec: FunctionSpec, when: str) -> InvokeResult:
    return function_error(
        {
            "errorType": INJECTED_ERROR_TYPE,
            "errorMessage": f"Injected function error ({when} running {spec.name})",
        }
    )
