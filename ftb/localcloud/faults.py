"""Fault injection for the local cloud: off unless `ftb local --faults FILE` / `--fault K=V`.

What it can do (docs/reliability.md has the failure model and the tests that use it):
- crash: end a function's worker with probability p at a point: `before-call.<service>.<Op>`
  (the side effect never happens), `after-call.<service>.<Op>` (it happened, nobody hears of
  it), `after-handler` (the handler returned, its answer is lost). Real process deaths: the
  worker (ftb/worker_faults.py) calls os._exit; the runtime reports Runtime.ExitError.
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
import re
import threading
import time
import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from ftb.localcloud.lambda_runtime import FunctionSpec, InvokeResult, function_error
from ftb.localcloud.worker_faults import (
    CRASHES_VARIABLE,
    EVENTS_VARIABLE,
    SEED_VARIABLE,
    CrashPoint,
)

# StartExecution's token bucket (Step Functions quotas, Standard workflows).
LARGE_REGIONS = frozenset({"us-east-1", "us-west-2", "eu-west-1"})
BUCKET_LARGE = (1300, 300.0)
BUCKET_SMALL = (800, 150.0)
START_EXECUTION_TARGET = "AWSStepFunctions.StartExecution"
CONTROL_PATH = "/_ftb/faults"
INJECTED_ERROR_TYPE = "FaultInjected.FunctionError"


class FaultConfigError(ValueError):
    """A fault specification that cannot be used: the message says which and why."""


def _probability(value: Any, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise FaultConfigError(f"{what}: {value!r} is not a number") from None
    if not 0.0 <= number <= 1.0:
        raise FaultConfigError(f"{what}: {number} is not a probability (0..1)")
    return number


def _seconds(value: Any, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise FaultConfigError(f"{what}: {value!r} is not a number of seconds") from None
    if number < 0:
        raise FaultConfigError(f"{what}: {number} is negative")
    return number


def _normalized(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def target_matches(target: str, *names: str) -> bool:
    """`*`, an exact name or logical id, or part of one (case and punctuation ignored), as
    `--set-env` matches functions."""
    if target == "*" or target in names:
        return True
    wanted = _normalized(target)
    return bool(wanted) and any(wanted in _normalized(name) for name in names if name)


@dataclass(frozen=True)
class CrashRule:
    function: str
    point: CrashPoint


@dataclass(frozen=True)
class FunctionErrorRule:
    function: str
    probability: float
    when: str = "after"  # before: instead of running; after: it ran, its answer is lost


@dataclass
class FaultConfig:
    seed: str | None = None
    crashes: list[CrashRule] = field(default_factory=list)
    function_errors: list[FunctionErrorRule] = field(default_factory=list)
    start_execution_throttle: float = 0.0
    start_execution_bucket_scale: float | None = None
    start_execution_bucket_quota: str = "auto"  # auto (by region) | large | small
    sqs_delays: dict[str, float] = field(default_factory=dict)  # target -> max seconds
    visibility_timeouts: dict[str, int] = field(default_factory=dict)  # queue -> seconds
    mapping_concurrency: dict[str, int] = field(default_factory=dict)  # queue/function -> n

    @property
    def enabled(self) -> bool:
        return bool(
            self.crashes
            or self.function_errors
            or self.start_execution_throttle
            or self.start_execution_bucket_scale
            or any(self.sqs_delays.values())
            or self.visibility_timeouts
            or self.mapping_concurrency
        )

    # -- parsing ------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path) -> FaultConfig:
        """A fault file: TOML (.toml) or JSON, the keys of docs/reliability.md."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise FaultConfigError(f"{path}: {error.strerror}") from None
        try:
            document = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        except (tomllib.TOMLDecodeError, ValueError) as error:
            raise FaultConfigError(f"{path}: {error}") from None
        config = cls()
        config.update(document, str(path))
        return config

    def update(self, document: Any, source: str = "faults") -> None:
        if not isinstance(document, dict):
            raise FaultConfigError(f"{source}: expected a table/object of fault settings")
        known = {
            "seed",
            "crash",
            "function_error",
            "start_execution_throttle",
            "start_execution_bucket_scale",
            "start_execution_bucket_quota",
            "sqs_delay",
            "visibility_timeout",
            "esm_max_concurrency",
        }
        unknown = sorted(set(document) - known)
        if unknown:
            raise FaultConfigError(f"{source}: unknown key(s) {', '.join(unknown)}")
        if "seed" in document:
            self.seed = str(document["seed"])
        for item in _items(document.get("crash"), f"{source}: crash"):
            self.add_crash(
                str(item.get("function", "")),
                str(item.get("point", "")),
                item.get("probability"),
            )
        for item in _items(document.get("function_error"), f"{source}: function_error"):
            self.add_function_error(
                str(item.get("function", "")), item.get("probability"), item.get("when", "after")
            )
        if "start_execution_throttle" in document:
            self.start_execution_throttle = _probability(
                document["start_execution_throttle"], "start_execution_throttle"
            )
        if "start_execution_bucket_scale" in document:
            self.set_bucket_scale(document["start_execution_bucket_scale"])
        if "start_execution_bucket_quota" in document:
            self.set_bucket_quota(document["start_execution_bucket_quota"])
        for target, seconds in _table(document.get("sqs_delay"), f"{source}: sqs_delay").items():
            self.sqs_delays[target] = _seconds(seconds, f"sqs_delay {target}")
        for queue, seconds in _table(
            document.get("visibility_timeout"), f"{source}: visibility_timeout"
        ).items():
            self.set_visibility_timeout(queue, seconds)
        for target, count in _table(
            document.get("esm_max_concurrency"), f"{source}: esm_max_concurrency"
        ).items():
            self.set_mapping_concurrency(target, count)

    def add_crash(self, function: str, point: str, probability: Any) -> None:
        if not function:
            raise FaultConfigError("crash: which function? (a name, logical id, part, or *)")
        chance = _probability(probability, f"crash {function} {point}")
        try:
            self.crashes.append(CrashRule(function, CrashPoint.parse(point, chance)))
        except ValueError as error:
            raise FaultConfigError(str(error)) from None

    def add_function_error(self, function: str, probability: Any, when: Any = "after") -> None:
        if not function:
            raise FaultConfigError("function_error: which function?")
        if when not in ("before", "after"):
            raise FaultConfigError(f"function_error {function}: when must be before or after")
        chance = _probability(probability, f"function_error {function}")
        self.function_errors.append(FunctionErrorRule(function, chance, str(when)))

    def set_bucket_scale(self, value: Any) -> None:
        try:
            scale = float(value)
        except (TypeError, ValueError):
            raise FaultConfigError(f"start_execution_bucket_scale: {value!r}") from None
        if not 0 < scale <= 1:
            raise FaultConfigError("start_execution_bucket_scale must be within (0, 1]")
        self.start_execution_bucket_scale = scale

    def set_bucket_quota(self, value: Any) -> None:
        if value not in ("auto", "large", "small"):
            raise FaultConfigError("start_execution_bucket_quota must be auto, large or small")
        self.start_execution_bucket_quota = str(value)

    def set_visibility_timeout(self, queue: str, value: Any) -> None:
        seconds = _seconds(value, f"visibility_timeout {queue}")
        if not seconds.is_integer() or seconds > 43200:
            raise FaultConfigError(f"visibility_timeout {queue}: whole seconds, 0..43200")
        self.visibility_timeouts[queue] = int(seconds)

    def set_mapping_concurrency(self, target: str, value: Any) -> None:
        # Lambda's MaximumConcurrency is 2..1000.
        if not isinstance(value, int | str) or not str(value).isdigit() or int(value) < 2:
            raise FaultConfigError(f"esm_max_concurrency {target}: a whole number >= 2")
        self.mapping_concurrency[target] = int(value)

    def apply_flag(self, text: str) -> None:
        """One `--fault` flag: NAME[:TARGET[:POINT]]=VALUE (docs/reliability.md)."""
        key, eq, value = text.rpartition("=")
        if not eq or not key:
            raise FaultConfigError(f"{text!r}: expected NAME[:TARGET[:POINT]]=VALUE")
        name, _, rest = key.partition(":")
        if name == "seed":
            self.seed = value
        elif name == "crash":
            function, sep, point = rest.partition(":")
            if not sep:
                raise FaultConfigError(
                    f"{text!r}: expected crash:FUNCTION:POINT=P, e.g. "
                    "crash:start-execution:after-call.states.StartExecution=0.05"
                )
            self.add_crash(function, point, value)
        elif name == "function-error":
            function, _, when = rest.partition(":")
            self.add_function_error(function, value, when or "after")
        elif name == "start-execution-throttle":
            self.start_execution_throttle = _probability(value, name)
        elif name == "start-execution-bucket-scale":
            self.set_bucket_scale(value)
        elif name == "start-execution-bucket-quota":
            self.set_bucket_quota(value)
        elif name == "sqs-delay":
            self.sqs_delays[rest or "*"] = _seconds(value, text)
        elif name == "esm-max-concurrency":
            if not rest:
                raise FaultConfigError(f"{text!r}: expected esm-max-concurrency:QUEUE=N")
            self.set_mapping_concurrency(rest, value)
        elif name == "visibility-timeout":
            if not rest:
                raise FaultConfigError(f"{text!r}: expected visibility-timeout:QUEUE=SECONDS")
            self.set_visibility_timeout(rest, value)
        else:
            raise FaultConfigError(
                f"{text!r}: unknown fault {name!r} (crash, function-error, "
                "start-execution-throttle, start-execution-bucket-scale, "
                "start-execution-bucket-quota, sqs-delay, visibility-timeout, "
                "esm-max-concurrency, seed)"
            )

    def bucket(self, region: str) -> tuple[int, float] | None:
        """(burst, refill per second) of the scaled StartExecution bucket, or None."""
        if self.start_execution_bucket_scale is None:
            return None
        quota = self.start_execution_bucket_quota
        large = region in LARGE_REGIONS if quota == "auto" else quota == "large"
        burst, refill = BUCKET_LARGE if large else BUCKET_SMALL
        scale = self.start_execution_bucket_scale
        return max(1, round(burst * scale)), refill * scale

    def describe(self, region: str) -> list[str]:
        lines = []
        for rule in self.crashes:
            lines.append(
                f"crash {rule.function} at {rule.point.label} p={rule.point.probability:g}"
            )
        for error in self.function_errors:
            lines.append(f"function error {error.function} ({error.when}) p={error.probability:g}")
        if self.start_execution_throttle:
            lines.append(f"StartExecution ThrottlingException p={self.start_execution_throttle:g}")
        bucket = self.bucket(region)
        if bucket is not None:
            lines.append(
                f"StartExecution token bucket: burst {bucket[0]}, {bucket[1]:g}/s "
                f"(AWS x {self.start_execution_bucket_scale:g})"
            )
        for target, seconds in self.sqs_delays.items():
            lines.append(f"SQS delivery delay up to {seconds:g} s ({target})")
        for queue, seconds in self.visibility_timeouts.items():
            lines.append(f"visibility timeout {seconds} s ({queue}; scaled time)")
        for target, count in self.mapping_concurrency.items():
            lines.append(f"event source mapping MaximumConcurrency {count} ({target}; what-if)")
        if self.seed is not None:
            lines.append(f"seed {self.seed}")
        return lines


def _items(value: Any, what: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, dict) for item in items):
        raise FaultConfigError(f"{what}: expected a list of tables/objects")
    return items


def _table(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, int | float):  # sqs_delay = 2: every mapping
        return {"*": value}
    if not isinstance(value, dict):
        raise FaultConfigError(f"{what}: expected a table/object TARGET = VALUE")
    return value


class TokenBucket:
    """Step Functions' API throttling: `burst` tokens, refilled at `rate` per second."""

    def __init__(self, burst: int, rate: float, clock: Any = time.monotonic) -> None:
        self.burst = burst
        self.rate = rate
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            return False

    @property
    def tokens(self) -> float:
        with self._lock:
            now = self._clock()
            return min(self.burst, self._tokens + (now - self._last) * self.rate)


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
