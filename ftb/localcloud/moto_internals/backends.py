"""The moto backends of this process (the endpoint runs moto in-process): by region in the
default account (snapshots), or by account and region (the reads, Logs Insights)."""

from __future__ import annotations

from typing import Any

ACCOUNT_ID = "123456789012"  # moto's default account: every local ARN uses it


def sqs(region: str) -> Any:
    from moto.backends import get_backend

    return get_backend("sqs")[ACCOUNT_ID][region]


def dynamodb(region: str) -> Any:
    from moto.backends import get_backend

    return get_backend("dynamodb")[ACCOUNT_ID][region]


def logs(region: str) -> Any:
    from moto.backends import get_backend

    return get_backend("logs")[ACCOUNT_ID][region]


def stepfunctions(region: str) -> Any:
    """The backend that runs executions (moto's ASL parser), as the endpoint uses it."""
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    return stepfunctions_parser_backends[ACCOUNT_ID][region]


def stepfunctions_of(account: str, region: str) -> Any:
    """The Step Functions backend moto's own handler answers an account and region with (the
    engine's when `execute_state_machine` is on)."""
    from moto.stepfunctions.responses import get_backend

    return get_backend(account, region)


def logs_of(account: str, region: str) -> Any:
    """An account's and region's CloudWatch Logs backend."""
    from moto.logs.models import logs_backends

    return logs_backends[account][region]
