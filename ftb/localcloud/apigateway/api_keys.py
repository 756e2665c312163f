"""API keys and usage plans as API Gateway applies them to a method with `ApiKeyRequired`.

The key travels in the `x-api-key` header. A missing, unknown or disabled key, or one whose
usage plans do not cover the called API stage, gets 403 {"message": "Forbidden"}
(INVALID_API_KEY). Past the plan's throttle (a token bucket: `rateLimit` per second refilling
`burstLimit` tokens) API Gateway answers 429 {"message": "Too Many Requests"} (THROTTLED); past
its quota for the period 429 {"message": "Limit Exceeded"} (QUOTA_EXCEEDED). Quotas count per
key and plan, the period starting at 00:00 UTC (the template's `Offset` days into a week or
month is honoured for WEEK; MONTH starts on the 1st).

A key without a `Value` in the template gets one generated here, as API Gateway generates it
(40 letters and digits): it exists only in this process, the banner and the state file.
"""

from __future__ import annotations

import secrets
import string
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ftb.localcloud.apigateway.sigv4 import Refusal

API_KEY_HEADER = "x-api-key"
_KEY_ALPHABET = string.ascii_letters + string.digits
_KEY_LENGTH = 40

FORBIDDEN = Refusal("INVALID_API_KEY", "Forbidden", "ForbiddenException")
THROTTLED = Refusal("THROTTLED", "Too Many Requests", "TooManyRequestsException")
QUOTA_EXCEEDED = Refusal("QUOTA_EXCEEDED", "Limit Exceeded", "LimitExceededException")


def generate_key_value() -> str:
    return "".join(secrets.choice(_KEY_ALPHABET) for _ in range(_KEY_LENGTH))


@dataclass
class ApiKey:
    id: str
    name: str
    value: str
    enabled: bool = True


@dataclass
class UsagePlan:
    id: str
    name: str
    stages: set[tuple[str, str]] = field(default_factory=set)  # (rest api id, stage)
    rate_limit: float | None = None
    burst_limit: int | None = None
    quota_limit: int | None = None
    quota_period: str = "DAY"  # DAY | WEEK | MONTH
    quota_offset: int = 0
    key_ids: set[str] = field(default_factory=set)


@dataclass
class _Bucket:
    tokens: float
    updated: float


class UsagePlans:
    """Every key and plan of the stack, and the per-key throttle and quota counters."""

    def __init__(self) -> None:
        self.keys: dict[str, ApiKey] = {}
        self.plans: dict[str, UsagePlan] = {}
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._quota_used: dict[tuple[str, str, str], int] = {}

    def check(
        self,
        api_id: str,
        stage: str,
        key_value: str | None,
        *,
        now: datetime | None = None,
        monotonic: float | None = None,
    ) -> Refusal | None:
        """None when the call may proceed (and it is counted); else API Gateway's refusal."""
        key = next(
            (k for k in self.keys.values() if key_value and k.value == key_value and k.enabled),
            None,
        )
        if key is None:
            return FORBIDDEN
        plans = [
            plan
            for plan in self.plans.values()
            if key.id in plan.key_ids and (api_id, stage) in plan.stages
        ]
        if not plans:
            return FORBIDDEN  # a key of another API or stage
        plan = plans[0]
        moment = monotonic if monotonic is not None else time.monotonic()
        with self._lock:
            if plan.rate_limit is not None and plan.burst_limit is not None:
                bucket = self._buckets.setdefault(
                    (plan.id, key.id), _Bucket(float(plan.burst_limit), moment)
                )
                bucket.tokens = min(
                    float(plan.burst_limit),
                    bucket.tokens + (moment - bucket.updated) * plan.rate_limit,
                )
                bucket.updated = moment
                if bucket.tokens < 1.0:
                    return THROTTLED
            if plan.quota_limit is not None:
                window = _quota_window(plan, now or datetime.now(UTC))
                used = self._quota_used.get((plan.id, key.id, window), 0)
                if used >= plan.quota_limit:
                    return QUOTA_EXCEEDED
                self._quota_used[(plan.id, key.id, window)] = used + 1
            if plan.rate_limit is not None and plan.burst_limit is not None:
                self._buckets[(plan.id, key.id)].tokens -= 1.0
        return None

    def values_by_id(self) -> dict[str, str]:
        return {key.id: key.value for key in self.keys.values()}


def _quota_window(plan: UsagePlan, now: datetime) -> str:
    day = now.astimezone(UTC).date()
    if plan.quota_period == "WEEK":
        start = day - timedelta(days=(day.weekday() - plan.quota_offset) % 7)
        return f"W{start.isoformat()}"
    if plan.quota_period == "MONTH":
        return f"M{day.year}-{day.month:02d}"
    return f"D{day.isoformat()}"
