"""The fault configuration: what `--faults FILE` and `--fault K=V` ask for."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ftb.localcloud.faults.worker_hooks import CrashPoint

LARGE_REGIONS = frozenset({"us-east-1", "us-west-2", "eu-west-1"})
BUCKET_LARGE = (1300, 300.0)
BUCKET_SMALL = (800, 150.0)


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


Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Seconds = Annotated[float, Field(ge=0.0)]


class CrashRule(BaseModel):
    model_config = ConfigDict(frozen=True)

    function: str = Field(min_length=1)
    point: CrashPoint


class FunctionErrorRule(BaseModel):
    model_config = ConfigDict(frozen=True)

    function: str = Field(min_length=1)
    probability: Probability
    when: Literal["before", "after"] = "after"  # before: instead of running; after: it ran


class FaultConfig(BaseModel):
    """The faults asked for, each field constrained as `--fault` and the fault file document
    it (docs/reliability.md). Built from a file (`load`), flags (`apply_flag`) or keywords;
    a value outside its constraints is a FaultConfigError that says which and why."""

    model_config = ConfigDict(validate_assignment=True, extra="forbid")

    seed: str | None = None
    crashes: list[CrashRule] = Field(default_factory=list)
    function_errors: list[FunctionErrorRule] = Field(default_factory=list)
    start_execution_throttle: Probability = 0.0
    start_execution_bucket_scale: Annotated[float, Field(gt=0.0, le=1.0)] | None = None
    start_execution_bucket_quota: Literal["auto", "large", "small"] = "auto"
    sqs_delays: dict[str, Seconds] = Field(default_factory=dict)  # target -> max seconds
    # queue -> seconds (SQS: 0..43200)
    visibility_timeouts: dict[str, Annotated[int, Field(ge=0, le=43200)]] = Field(
        default_factory=dict
    )
    # queue/function -> n (Lambda's MaximumConcurrency is 2..1000)
    mapping_concurrency: dict[str, Annotated[int, Field(ge=2)]] = Field(default_factory=dict)

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as error:
            raise FaultConfigError(_describe(error)) from None

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
            self.sqs_delays = {**self.sqs_delays, target: _seconds(seconds, f"sqs_delay {target}")}
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
            self.crashes = [
                *self.crashes,
                CrashRule(function=function, point=CrashPoint.parse(point, chance)),
            ]
        except ValueError as error:
            raise FaultConfigError(str(error)) from None

    def add_function_error(self, function: str, probability: Any, when: Any = "after") -> None:
        if not function:
            raise FaultConfigError("function_error: which function?")
        if when not in ("before", "after"):
            raise FaultConfigError(f"function_error {function}: when must be before or after")
        chance = _probability(probability, f"function_error {function}")
        self.function_errors = [
            *self.function_errors,
            FunctionErrorRule(function=function, probability=chance, when=when),
        ]

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
        self.start_execution_bucket_quota = value

    def set_visibility_timeout(self, queue: str, value: Any) -> None:
        seconds = _seconds(value, f"visibility_timeout {queue}")
        if not seconds.is_integer() or seconds > 43200:
            raise FaultConfigError(f"visibility_timeout {queue}: whole seconds, 0..43200")
        self.visibility_timeouts = {**self.visibility_timeouts, queue: int(seconds)}

    def set_mapping_concurrency(self, target: str, value: Any) -> None:
        # Lambda's MaximumConcurrency is 2..1000.
        if not isinstance(value, int | str) or not str(value).isdigit() or int(value) < 2:
            raise FaultConfigError(f"esm_max_concurrency {target}: a whole number >= 2")
        self.mapping_concurrency = {**self.mapping_concurrency, target: int(value)}

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
            self.sqs_delays = {**self.sqs_delays, rest or "*": _seconds(value, text)}
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


def _describe(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in found['loc'])}: {found['msg']}"
        for found in error.errors()
    )


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
