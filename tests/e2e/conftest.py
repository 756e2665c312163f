"""Two local clouds per session, started together on free ports, stopped with Ctrl-C (SIGINT).

- `cloud`: the real app (`infra.app`), with process-task's FAILURE_RATE set to 0 so that a
  task's outcome is decided by its id alone (ids ending in 3 fail permanently).
- `extra_cloud`: the test app `tests/support/extra_app` (the real stack plus an extra queue,
  function and route), with FAILURE_RATE=0.5 and a FAILURE_SEED, so that transient failures
  are reproducible: the tests pick task ids whose attempts fail the way they need. It runs
  with `-c apiAuth=apiKey` (the main cloud has the default, iam): every request carries the
  key its banner prints (tests/support/api_auth.py), and test_e2e_api_key.py checks the key.

Overrides use `ftb local --set-env FUNCTION:KEY=VALUE`, as a user would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.local_cloud import (
    EXTRA_APP,
    EXTRA_FAILURE_RATE,
    FAILURE_SEED,
    LocalCloudProcess,
    starts_a_local_cloud,
)

_RUNNING: list[LocalCloudProcess] = []


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Stop the clouds once the last test of this directory has run, not at session end:
    the suites that run after this one get the machine to themselves."""
    here = Path(__file__).parent
    if _RUNNING and (nextitem is None or here not in Path(nextitem.path).parents):
        for cloud in _RUNNING:
            cloud.stop()
        _RUNNING.clear()


@pytest.fixture(scope="session")
@starts_a_local_cloud
def _clouds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, LocalCloudProcess]]:
    work_dir = tmp_path_factory.mktemp("local-clouds")
    clouds = {
        "main": LocalCloudProcess("main", ["--set-env", "process-task:FAILURE_RATE=0"], work_dir),
        "extra": LocalCloudProcess(
            "extra",
            [
                "--app",
                EXTRA_APP,
                "-c",
                "apiAuth=apiKey",
                "--set-env",
                f"process-task:FAILURE_RATE={EXTRA_FAILURE_RATE}",
                "--set-env",
                f"process-task:FAILURE_SEED={FAILURE_SEED}",
            ],
            work_dir,
        ),
    }
    for cloud in clouds.values():
        cloud.start()
        _RUNNING.append(cloud)
    try:
        yield clouds
    finally:
        for cloud in clouds.values():
            cloud.stop()


@pytest.fixture(scope="session")
def cloud(_clouds: dict[str, LocalCloudProcess]) -> LocalCloudProcess:
    return _clouds["main"].wait_ready()


@pytest.fixture(scope="session")
def extra_cloud(_clouds: dict[str, LocalCloudProcess]) -> LocalCloudProcess:
    return _clouds["extra"].wait_ready()
