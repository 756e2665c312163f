"""Settings: the environment variables the stack gives each function, parsed once.

Each function reads only what it needs; a missing or malformed variable fails at the first
invocation with a message that names it, rather than as a KeyError deep in the logic.
"""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field


class _EnvSettings(BaseModel):
    # defer_build: a function validates only its own settings model, so the validators of
    # the other functions' models are never built (pydantic builds the one it uses on its
    # first model_validate, once per process).
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore", defer_build=True)


class ApiSettings(_EnvSettings):
    """submit-task and get-task."""

    tasks_table_name: str = Field(alias="TASKS_TABLE_NAME", min_length=1)
    task_queue_url: str = Field(alias="TASK_QUEUE_URL", min_length=1)
    state_machine_arn: str = Field(alias="STATE_MACHINE_ARN", min_length=1)


class StarterSettings(_EnvSettings):
    """start-execution."""

    state_machine_arn: str = Field(alias="STATE_MACHINE_ARN", min_length=1)
    task_queue_url: str = Field(alias="TASK_QUEUE_URL", min_length=1)
    # Backoff of a throttled record: its visibility timeout grows with its receive count,
    # capped below SQS's 12-hour maximum.
    backoff_base_seconds: int = Field(alias="START_BACKOFF_BASE_SECONDS", default=5, ge=1)
    backoff_max_seconds: int = Field(alias="START_BACKOFF_MAX_SECONDS", default=300, ge=1)


class ProcessingSettings(_EnvSettings):
    """process-task: the failure simulation of the original system."""

    failure_rate: float = Field(alias="FAILURE_RATE", default=0.3, ge=0.0, le=1.0)
    failure_seed: str | None = Field(alias="FAILURE_SEED", default=None)


class MonitorSettings(_EnvSettings):
    """monitor-dlq: marks intake dead letters on the task record."""

    tasks_table_name: str = Field(alias="TASKS_TABLE_NAME", min_length=1)


@lru_cache(maxsize=1)
def api_settings() -> ApiSettings:
    return ApiSettings.model_validate(dict(os.environ))


@lru_cache(maxsize=1)
def starter_settings() -> StarterSettings:
    return StarterSettings.model_validate(dict(os.environ))


@lru_cache(maxsize=1)
def processing_settings() -> ProcessingSettings:
    env = {key: value for key, value in os.environ.items() if value != ""}
    return ProcessingSettings.model_validate(env)


@lru_cache(maxsize=1)
def monitor_settings() -> MonitorSettings:
    return MonitorSettings.model_validate(dict(os.environ))


def clear_caches() -> None:
    """Forget parsed settings (tests change the environment between cases)."""
    for cached in (api_settings, starter_settings, processing_settings, monitor_settings):
        cached.cache_clear()
