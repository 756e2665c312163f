"""The Step Functions engine's caches (moto_internals/engine_caches.py) against moto's own
functions, on the installed moto: the same programs, the same clients, the same modules."""

from __future__ import annotations

import enum
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from ftb.localcloud.moto_internals import engine_caches, registry
from ftb.localcloud.moto_internals.wall import Target, original

ROOT = Path(__file__).resolve().parents[2]


def moto_s(target: Target) -> Any:
    return original(target.owner(), target.attribute)


@pytest.fixture(scope="module", autouse=True)
def installed() -> None:
    engine_caches.install_engine_caches()


def _definitions() -> dict[str, str]:
    simple = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
    branching = {
        "StartAt": "Pick",
        "States": {
            "Pick": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Many"}],
                "Default": "Wait",
            },
            "Wait": {"Type": "Wait", "Seconds": 1, "Next": "Many"},
            "Many": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "MaxConcurrency": 2,
                "Iterator": {"StartAt": "Each", "States": {"Each": {"Type": "Pass", "End": True}}},
                "ResultPath": "$.done",
                "Next": "Work",
            },
            "Work": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "f", "Payload.$": "$"},
                "Retry": [
                    {
                        "ErrorEquals": ["States.ALL"],
                        "IntervalSeconds": 2,
                        "BackoffRate": 2.0,
                        "MaxAttempts": 3,
                    }
                ],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Dlq"}],
                "End": True,
            },
            "Dlq": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage",
                "Parameters": {"QueueUrl": "q", "MessageBody.$": "$"},
                "Next": "Failed",
            },
            "Failed": {"Type": "Fail", "Error": "TaskFailed", "Cause": "see the queue"},
        },
    }
    definitions = {"pass": json.dumps(simple), "branching": json.dumps(branching)}
    # The project's own workflow, its CDK substitutions filled as the stack fills them.
    workflow = (ROOT / "statemachine" / "task_workflow.asl.json").read_text(encoding="utf-8")
    definitions["task_workflow"] = re.sub(
        r"\$\{(\w+)\}", r"arn:aws:lambda:us-east-1:123456789012:function:\1", workflow
    )
    return definitions


DEFINITIONS = _definitions()


def _shape(value: Any, seen: dict[int, int] | None = None) -> Any:
    """The structure of a component tree: classes and plain values, objects by their fields,
    cycles by the position they were first met (two separately built trees compare equal
    exactly when they are built the same)."""
    seen = {} if seen is None else seen
    if value is None or isinstance(value, str | int | float | bool | bytes | enum.Enum):
        return value
    if id(value) in seen:
        return ("seen", seen[id(value)])
    seen[id(value)] = len(seen)
    if isinstance(value, list | tuple):
        return [type(value).__name__, [_shape(item, seen) for item in value]]
    if isinstance(value, dict):
        return ["dict", [[_shape(k, seen), _shape(v, seen)] for k, v in value.items()]]
    if isinstance(value, set | frozenset):
        return ["set", sorted(repr(item) for item in value)]
    fields = getattr(value, "__dict__", None)
    if fields is None:
        return [type(value).__qualname__, repr(value)]
    return [type(value).__qualname__, [[k, _shape(v, seen)] for k, v in sorted(fields.items())]]


def _worker(definition: str) -> Any:
    details = SimpleNamespace(state_machine_details=SimpleNamespace(definition=definition))
    return SimpleNamespace(_evaluation_details=details)


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_parse_cache_builds_the_program_moto_builds(name: str) -> None:
    # Given a definition, moto's entry point and ours (ours twice: the second from the cache)
    definition = DEFINITIONS[name]
    theirs = moto_s(registry.EVALUATION_ENTRYPOINT)(_worker(definition))
    first = engine_caches.cached_entrypoint(_worker(definition))
    second = engine_caches.cached_entrypoint(_worker(definition))
    # Then the programs are built the same, and each call builds its own (no shared state)
    assert _shape(first) == _shape(theirs)
    assert _shape(second) == _shape(theirs)
    assert first is not second


def test_the_program_comparison_tells_programs_apart() -> None:
    # Given two definitions that differ in one state's name, when both are built by moto
    entry = moto_s(registry.EVALUATION_ENTRYPOINT)
    one = entry(_worker(DEFINITIONS["pass"]))
    other = entry(_worker(DEFINITIONS["pass"].replace('"A"', '"B"')))
    # Then their shapes differ (the comparison above can fail), and equal ones compare equal
    assert _shape(one) != _shape(other)
    assert _shape(one) == _shape(entry(_worker(DEFINITIONS["pass"])))


def _client_settings(client: Any) -> dict[str, Any]:
    config = client.meta.config
    credentials = client._request_signer._credentials
    return {
        "service": client.meta.service_model.service_name,
        "region": client.meta.region_name,
        "endpoint": client.meta.endpoint_url,
        "parameter_validation": config.parameter_validation,
        "retries": config.retries,
        "connect_timeout": config.connect_timeout,
        "read_timeout": config.read_timeout,
        "credentials": (credentials.access_key, credentials.secret_key),
    }


@pytest.fixture
def over_http(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto's engine calling back over HTTP (the endpoint's case: no decorator active)."""
    from moto.core.models import botocore_stubber

    monkeypatch.setattr(botocore_stubber, "enabled", False)
    monkeypatch.setenv("MOTO_PORT", "4599")
    engine_caches.answer_engine_calls_with(None)
    yield
    engine_caches.answer_engine_calls_with(None)


@pytest.fixture
def decorated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto's engine inside mock_aws (the bare engine's case: calls intercepted)."""
    from moto.core.models import botocore_stubber

    monkeypatch.setattr(botocore_stubber, "enabled", True)
    engine_caches.answer_engine_calls_with(None)
    yield
    engine_caches.answer_engine_calls_with(None)


@pytest.mark.parametrize(
    ("region", "service"),
    [("us-east-1", "lambda"), ("us-east-1", "sqs"), ("eu-west-1", "dynamodb")],
)
@pytest.mark.parametrize("mode", ["over_http", "decorated"])
def test_client_cache_makes_the_client_moto_makes(
    mode: str, region: str, service: str, request: pytest.FixtureRequest
) -> None:
    # Given the engine calling back over HTTP or inside mock_aws
    request.getfixturevalue(mode)
    # When moto's boto_client_for and ours make a client for the same region and service
    theirs = moto_s(registry.BOTO_CLIENT_FOR)(region, service, None)
    mine = engine_caches.cached_client_for(region, service, None)
    # Then the clients have the same service, region, endpoint, settings and credentials
    # (ours also allows 256 pooled connections, so that concurrent executions do not churn)
    assert _client_settings(mine) == _client_settings(theirs)
    assert mine.meta.config.max_pool_connections == 256
    # And the same key gives the same client, another region another one
    assert engine_caches.cached_client_for(region, service, {"ignored": True}) is mine
    other = "ap-south-1"
    assert engine_caches.cached_client_for(other, service, None).meta.region_name == other


def test_client_cache_follows_the_port(monkeypatch: pytest.MonkeyPatch, over_http: None) -> None:
    # Given a client made for one MOTO_PORT, when the port changes (another endpoint)
    first = engine_caches.cached_client_for("us-east-1", "sqs", None)
    monkeypatch.setenv("MOTO_PORT", "4600")
    second = engine_caches.cached_client_for("us-east-1", "sqs", None)
    theirs = moto_s(registry.BOTO_CLIENT_FOR)("us-east-1", "sqs", None)
    # Then the new client calls the new port, as moto's would
    assert first.meta.endpoint_url.endswith(":4599")
    assert second.meta.endpoint_url == theirs.meta.endpoint_url
    assert os.environ["MOTO_PORT"] == "4600"


def test_engine_modules_all_call_the_cache() -> None:
    # Given the engine's task-state modules that imported boto_client_for by name
    import importlib
    import pkgutil

    package = importlib.import_module(engine_caches._ENGINE_PACKAGE)
    found = moto_s(registry.BOTO_CLIENT_FOR)
    holders = []
    for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        module = importlib.import_module(info.name)
        if "boto_client_for" in vars(module):
            holders.append((info.name, vars(module)["boto_client_for"]))
    # Then every one of them calls ours, none moto's
    assert holders, "the engine no longer imports boto_client_for by name: review the cache"
    assert [name for name, function in holders if function is found] == []
    assert all(function is engine_caches.cached_client_for for _, function in holders)


def test_list_of_moto_modules() -> None:
    # Given moto's directory listing and ours, when both list moto's service packages
    theirs = list(moto_s(registry.MOTO_MODULES)())
    from moto import backends

    mine = list(backends.list_of_moto_modules())
    # Then they are the same names in the same order
    assert mine == theirs
