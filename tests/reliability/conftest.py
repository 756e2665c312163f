"""The clean local cloud the hostile-input and fuzz suites send requests to.

One `ftb local` per session, started the way tests/e2e starts its clouds (LocalCloudProcess),
with no fault injected and process-task's FAILURE_RATE at 0: any 5xx the API answers is then
a defect, never a simulated failure. The fault-injection suites start clouds of their own.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.local_cloud import LocalCloudProcess, starts_a_local_cloud

_RUNNING: list[LocalCloudProcess] = []


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Stop the API cloud after the last test that uses it, not at session end: the
    fault-injection suites that run later get the machine to themselves."""
    if not _RUNNING:
        return
    items = item.session.items
    later = items[items.index(item) + 1 :] if item in items else []
    if not any("api_cloud" in getattr(other, "fixturenames", ()) for other in later):
        for cloud in _RUNNING:
            cloud.stop(timeout=60)
        _RUNNING.clear()


@pytest.fixture(scope="session")
@starts_a_local_cloud
def api_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    work_dir = tmp_path_factory.mktemp("api-cloud")
    cloud = LocalCloudProcess(
        "api", ["--quiet", "--set-env", "process-task:FAILURE_RATE=0"], work_dir
    )
    cloud.start()
    _RUNNING.append(cloud)
    try:
        yield cloud.wait_ready()
    finally:
        cloud.stop(timeout=60)


@pytest.fixture(scope="session")
def api_url(api_cloud: LocalCloudProcess) -> str:
    """The stage URL without its trailing slash: http://127.0.0.1:<port>/v1."""
    return api_cloud.outputs["ApiUrl"].rstrip("/")
