"""Every test runs offline: fake credentials, a fixed region, no X-Ray, a known namespace.

Tests that need a local cloud (`ftb local` in a subprocess: a fixture marked with
`starts_a_local_cloud`, or a module that starts its own) are marked `cloud`, whatever their
folder: `make test-fast` runs everything else (`-m "not cloud"`), `make test` all.

The variables are set at import as well as per test: Powertools reads its POWERTOOLS_*
variables when the handlers are imported (at collection, before any fixture runs), and fake
credentials must be in place before anything could create a boto3 client.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import botocore.loaders
import botocore.session
import pytest

from lambda_support.settings import clear_caches
from tests.support.local_cloud import LocalCloudProcess

# `make test`'s workers: the groups of tests that share a fixture, the order they go out in.
pytest_plugins = ("tests.support.parallel_run",)

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
# Variables that could lead a client to real credentials.
_CREDENTIAL_SOURCES = ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")

# botocore parses its service models (JSON) anew for every session, and the tests make one
# per moto mock and per handler call: one shared loader (what a long-lived process has)
# takes that out of every test. The data path is botocore's own; nothing else changes.
_SHARED_LOADER = botocore.loaders.create_loader()
botocore.session.create_loader = lambda search_paths_string=None: _SHARED_LOADER  # type: ignore[assignment]

os.environ.update(OFFLINE_ENV)
for _name in _CREDENTIAL_SOURCES:
    os.environ.pop(_name, None)


@pytest.fixture(autouse=True)
def offline_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Imported here, once OFFLINE_ENV is in place: it creates Powertools' Logger, Tracer and
    # Metrics, which read their POWERTOOLS_* variables when they are created.
    from lambda_support import aws

    for name, value in OFFLINE_ENV.items():
        monkeypatch.setenv(name, value)
    for name in _CREDENTIAL_SOURCES:
        monkeypatch.delenv(name, raising=False)
    clear_caches()
    aws.reset()
    yield
    clear_caches()
    aws.reset()


def _needs_a_local_cloud(item: pytest.Item) -> bool:
    """A fixture it uses (directly or not) starts one, or its module starts its own."""
    module = getattr(item, "module", None)
    if module is not None and any(value is LocalCloudProcess for value in vars(module).values()):
        return True
    info = getattr(item, "_fixtureinfo", None)
    definitions = info.name2fixturedefs.values() if info is not None else ()
    return any(
        getattr(definition.func, "starts_a_local_cloud", False)
        for chain in definitions
        for definition in chain
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _needs_a_local_cloud(item):
            item.add_marker(pytest.mark.cloud)


def _no_exit_in_the_test_process(code: int) -> None:
    raise AssertionError(
        f"os._exit({code}) in the test process: it would end the run with no report "
        "(a command meant to exit at once must leave that to `ftb`'s entry point)"
    )


def pytest_configure(config: pytest.Config) -> None:
    # An os._exit in process ends pytest with that code and no summary: a run that stopped
    # half-way would look green. Subprocesses (`ftb local`, Lambda workers) are not affected.
    os._exit = _no_exit_in_the_test_process  # type: ignore[assignment]
