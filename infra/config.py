"""The stack's settings, read once from the CDK context (cdk.json, `cdk -c key=value`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from infra import names

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LOG_LEVELS = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}


@dataclass(frozen=True)
class StackConfig:
    stack_name: str = names.DEFAULT_STACK_NAME
    alarm_email: str | None = None
    failure_rate: str = names.DEFAULT_FAILURE_RATE
    failure_seed: str | None = None
    log_level: str = names.DEFAULT_LOG_LEVEL
    retain_table: bool = True
    api_auth: str = names.DEFAULT_API_AUTH
    api_key_rate: int = names.API_KEY_RATE
    api_key_burst: int = names.API_KEY_BURST
    api_key_quota: int = names.API_KEY_QUOTA_PER_DAY
    chaos: bool = False

    @classmethod
    def from_context(cls, get: Any) -> StackConfig:
        """`get` is `node.try_get_context` (or dict.get): a bad value fails synth, naming it."""

        def text(key: str) -> str | None:
            value = get(key)
            return None if value is None or str(value).strip() == "" else str(value).strip()

        email = text(names.CTX_ALARM_EMAIL)
        if email is not None and not _EMAIL.match(email):
            raise ValueError(f"context {names.CTX_ALARM_EMAIL}={email!r} is not an e-mail address")

        rate = text(names.CTX_FAILURE_RATE) or names.DEFAULT_FAILURE_RATE
        try:
            valid_rate = 0.0 <= float(rate) <= 1.0
        except ValueError:
            valid_rate = False
        if not valid_rate:
            raise ValueError(
                f"context {names.CTX_FAILURE_RATE}={rate!r} must be a number in [0, 1]"
            )

        level = (text(names.CTX_LOG_LEVEL) or names.DEFAULT_LOG_LEVEL).upper()
        if level not in _LOG_LEVELS:
            raise ValueError(
                f"context {names.CTX_LOG_LEVEL}={level!r} not in {sorted(_LOG_LEVELS)}"
            )

        removal = (text(names.CTX_TABLE_REMOVAL) or "retain").lower()
        if removal not in {"retain", "destroy"}:
            raise ValueError(f"context {names.CTX_TABLE_REMOVAL}={removal!r}: retain or destroy")

        api_auth = text(names.CTX_API_AUTH) or names.DEFAULT_API_AUTH
        if api_auth not in names.API_AUTH_MODES:
            raise ValueError(
                f"context {names.CTX_API_AUTH}={api_auth!r}: "
                f"one of {', '.join(names.API_AUTH_MODES)}"
            )

        def positive(key: str, default: int) -> int:
            value = text(key)
            if value is None:
                return default
            if not value.isdigit() or int(value) <= 0:
                raise ValueError(f"context {key}={value!r} must be a positive whole number")
            return int(value)

        chaos = (text(names.CTX_CHAOS) or "false").lower()
        if chaos not in {"true", "false"}:
            raise ValueError(f"context {names.CTX_CHAOS}={chaos!r}: true or false")

        return cls(
            stack_name=text(names.CTX_STACK_NAME) or names.DEFAULT_STACK_NAME,
            alarm_email=email,
            failure_rate=rate,
            failure_seed=text(names.CTX_FAILURE_SEED),
            log_level=level,
            retain_table=removal == "retain",
            api_auth=api_auth,
            api_key_rate=positive(names.CTX_API_KEY_RATE, names.API_KEY_RATE),
            api_key_burst=positive(names.CTX_API_KEY_BURST, names.API_KEY_BURST),
            api_key_quota=positive(names.CTX_API_KEY_QUOTA, names.API_KEY_QUOTA_PER_DAY),
            chaos=chaos == "true",
        )
