"""Every test runs offline: fake credentials, a fixed region, no X-Ray, a known namespace.

Tests that start a local cloud (`ftb local` in a subprocess) are marked `cloud`, whatever
their folder: `make test-fast` runs everything else (`-m "not cloud"`), `make test` all.

The variables are set at import as well as per test: Powertools reads its POWERTOOLS_*
variables when the handlers are imported (at collection, before any fixture runs), and fake
credentials must be in place before anything could create a boto3 client.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from lambda_support import aws
from lambda_support.settings import clear_caches
from tests.support.local_cloud import LocalCloudProcess

OFFLINE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_METRICS_NAMESPACE": "FaultTolerantBackend",
    "POWERTOOLS_SERVICE_NAME": "fault-tolerant-backend-tests",
}
# The fixtures that start a local cloud (tests/e2e, tests/ops, tests/reliability conftests).
CLOUD_FIXTURES = frozenset({"cloud", "extra_cloud", "ops_cloud", "on_ops_cloud", "api_cloud"})
# Variables that could lead a client to real credentials.
_CREDENTIAL_SOURCES = ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")

os.environ.update(OFFLINE_ENV)
for _name in _CREDENTIAL_SOURCES:
    os.environ.pop(_name, None)


@pytest.fixture(autouse=True)
def offline_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in OFFLINE_ENV.items():
        monkeypatch.setenv(name, value)
    for name in _CREDENTIAL_SOURCES:
        monkeypatch.delenv(name, raising=False)
    clear_caches()
    aws.reset()
    yield
    clear_caches()
    aws.reset()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = getattr(item, "module", None)
        starts_its_own = module is not None and any(
            value is LocalCloudProcess for value in vars(module).values()
        )
        if starts_its_own or CLOUD_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.cloud)
