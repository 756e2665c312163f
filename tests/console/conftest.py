"""A local cloud as `make run` starts it (process-task's failures seeded `walkthrough`), its
task console, and a headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

With that seed task-0079 fails three attempts and is dead-lettered, and its redrive succeeds
(README walkthrough); ids ending in 3 fail permanently.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.local_cloud import LocalCloudProcess, starts_a_local_cloud, wait_for

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The README walkthrough's tasks this suite looks at.
RETRIED_AND_DEAD_LETTERED = "task-0079"
SUCCEEDS = "task-0001"
FAILS_PERMANENTLY = "task-0003"
_RUNNING: list[LocalCloudProcess] = []


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Stop the cloud once the last test of this directory has run."""
    here = Path(__file__).parent
    if _RUNNING and (nextitem is None or here not in Path(nextitem.path).parents):
        for cloud in _RUNNING:
            cloud.stop()
        _RUNNING.clear()


@pytest.fixture(scope="session")
@starts_a_local_cloud
def console_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    cloud = LocalCloudProcess(
        "console",
        ["--set-env", "process-task:FAILURE_SEED=walkthrough"],
        tmp_path_factory.mktemp("console-cloud"),
    )
    cloud.start()
    _RUNNING.append(cloud)
    try:
        cloud.wait_ready()
        for task_id in (RETRIED_AND_DEAD_LETTERED, SUCCEEDS, FAILS_PERMANENTLY):
            assert cloud.submit(task_id).status == 202
        cloud.wait_for_status(RETRIED_AND_DEAD_LETTERED, "FAILED", timeout=120)
        cloud.wait_for_status(SUCCEEDS, "SUCCEEDED", timeout=120)
        cloud.wait_for_status(FAILS_PERMANENTLY, "FAILED", timeout=120)
        yield cloud
    finally:
        cloud.stop()


@pytest.fixture(scope="session")
def console_url(console_cloud: LocalCloudProcess) -> str:
    """The ConsoleUrl the cloud published, once the console answers."""
    url = str(console_cloud.state["companions"]["ConsoleUrl"])

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/api/target", timeout=5) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    wait_for(answers, 60, f"the console at {url}")
    return url


@dataclass
class PageWatch:
    """What a page did that a test must see: errors, failed requests, requests off the machine."""

    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    off_machine: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.errors == [], self.errors
        assert self.failed == [], self.failed
        assert self.off_machine == [], self.off_machine


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (`sudo apt-get install chromium`)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, console_url: str) -> Iterator[tuple[Any, PageWatch]]:
    """A 1280-px-wide page that records errors and refuses any request off the console."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watch = PageWatch()
    own = urlsplit(console_url).netloc

    def route(route: Any) -> None:
        if urlsplit(route.request.url).netloc != own:
            watch.off_machine.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", route)
    page.on("pageerror", lambda error: watch.errors.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            watch.errors.append(f"console {message.type}: {message.text}")
            if message.type == "error"
            else None
        ),
    )
    page.on(
        "requestfailed", lambda request: watch.failed.append(f"{request.url}: {request.failure}")
    )
    page.on(
        "response",
        lambda response: (
            watch.failed.append(f"{response.url}: HTTP {response.status}")
            if response.status >= 400 and "/api/insights/query" not in response.url
            else None
        ),
    )
    yield page, watch
    context.close()


def shots_dir() -> Path | None:
    """Where the lead's report screenshots go when FTB_CONSOLE_SHOTS names a folder."""
    import os

    folder = os.environ.get("FTB_CONSOLE_SHOTS")
    if not folder:
        return None
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path
