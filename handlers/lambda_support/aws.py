"""boto3 clients, created lazily (never at import) and once per process.

Lazy creation keeps cold starts short for functions that never use a client, and lets
tests and the local cloud point AWS_ENDPOINT_URL elsewhere before the first call.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from lambda_support.observability import tracer

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_sqs.client import SQSClient
    from mypy_boto3_stepfunctions.client import SFNClient

# Every AWS call of a function is an X-Ray subsegment (a no-op when tracing is disabled).
tracer.patch(["botocore"])

# Fail fast and let the caller's own retry (SQS redelivery, the client) take over, rather
# than holding a Lambda invocation in long SDK retry loops.
_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10
)


@cache
def _client(service: str) -> Any:
    return boto3.session.Session().client(service, config=_CONFIG)  # type: ignore[call-overload]


def sqs() -> SQSClient:
    return _client("sqs")  # type: ignore[no-any-return]


def stepfunctions() -> SFNClient:
    return _client("stepfunctions")  # type: ignore[no-any-return]


@cache
def table(name: str) -> Table:
    resource = boto3.session.Session().resource("dynamodb", config=_CONFIG)
    return resource.Table(name)


def reset() -> None:
    """Drop cached clients (tests switch endpoints and credentials between cases)."""
    _client.cache_clear()
    table.cache_clear()
