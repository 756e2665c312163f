"""The moto backends of this process (the endpoint runs moto in-process), one region each."""

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
