"""The task console in a real browser (headless Chromium): every page, the page of a task that
retried and was dead-lettered, a redrive from that page, and the cross-site protections."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.console.conftest import (
    FAILS_PERMANENTLY,
    RETRIED_AND_DEAD_LETTERED,
    SUCCEEDS,
    PageWatch,
    shots_dir,
)
from tests.support.local_cloud import REPO_ROOT, LocalCloudProcess

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

PAGES = ["/", "/tasks", f"/tasks/{RETRIED_AND_DEAD_LETTERED}", "/dead-letters", "/insights"]


def _shot(page: Any, name: str) -> None:
    folder = shots_dir()
    if folder is not None:
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_loads_clean(page: tuple[Any, PageWatch], console_url: str, path: str) -> None:
    # Given the console of a cloud that ran the walkthrough's tasks
    browser_page, watch = page
    # When a page is opened and has settled
    browser_page.goto(console_url + path)
    browser_page.wait_for_load_state("networkidle")
    browser_page.wait_for_selector("main h1")
    # Then it raised no error, no request failed and none left the machine
    watch.assert_clean()
    assert browser_page.locator("main .error").count() == 0
    # And it fits 1280 px without a horizontal scroll
    assert browser_page.evaluate("document.documentElement.scrollWidth") <= 1280
    # And the keyboard's first stop is the skip link, which lands on the content
    browser_page.keyboard.press("Tab")
    assert browser_page.evaluate("document.activeElement.className") == "skip"
    browser_page.keyboard.press("Enter")
    assert browser_page.evaluate("document.activeElement.id") == "main"
    _shot(browser_page, path.strip("/").replace("/", "_") or "overview")


def test_overview_counts_equal_the_tasks(page: tuple[Any, PageWatch], console_url: str) -> None:
    browser_page, watch = page
    browser_page.goto(console_url + "/")
    browser_page.wait_for_selector('[data-card="Tasks"]')
    # Then the counts are the tasks' true statuses: one succeeded, two failed (dead letters)
    assert browser_page.locator('[data-card="Tasks"]').inner_text() == "3"
    assert browser_page.locator('[data-card="SUCCEEDED"]').inner_text() == "1"
    assert browser_page.locator('[data-card="FAILED"]').inner_text() == "2"
    assert browser_page.locator('[data-card="Dead letters"]').inner_text() == "2"
    # And the chart and the queues are drawn; the alarms say what the endpoint answered
    assert browser_page.locator(".chart canvas").count() >= 1
    assert "task queue" in browser_page.locator("main").inner_text()
    assert "DescribeAlarms" in browser_page.locator("main").inner_text() or (
        browser_page.locator("main table").count() >= 2
    )
    watch.assert_clean()


def test_tasks_page_filters_and_searches(page: tuple[Any, PageWatch], console_url: str) -> None:
    browser_page, watch = page
    browser_page.goto(console_url + "/tasks?status=FAILED")
    browser_page.wait_for_selector("table.tasks")
    failed = browser_page.locator("table.tasks tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.task)"
    )
    assert sorted(failed) == sorted([RETRIED_AND_DEAD_LETTERED, FAILS_PERMANENTLY])
    # The table's own status field is shown for what it is: QUEUED, written at intake
    assert "QUEUED" in browser_page.locator("table.tasks tbody").inner_text()
    # When searching by id with the keyboard
    browser_page.select_option("#f-status", "")
    browser_page.fill("#f-q", "0001")
    browser_page.press("#f-q", "Enter")
    browser_page.wait_for_function(
        "() => document.querySelectorAll('table.tasks tbody tr').length === 1"
    )
    row = browser_page.locator("table.tasks tbody tr")
    assert row.get_attribute("data-task") == SUCCEEDS
    assert "SUCCEEDED" in row.inner_text()
    watch.assert_clean()


def test_task_page_shows_attempts_graph_and_events(
    page: tuple[Any, PageWatch], console_url: str
) -> None:
    # Given task-0079, which failed three attempts and was dead-lettered
    browser_page, watch = page
    browser_page.goto(f"{console_url}/tasks/{RETRIED_AND_DEAD_LETTERED}")
    browser_page.wait_for_selector("table.attempts")
    # Then each attempt shows its error, message, and the backoff before the next
    attempts = browser_page.locator("table.attempts tbody tr")
    assert attempts.count() == 3
    for number in range(3):
        text = attempts.nth(number).inner_text()
        assert "failed" in text and "TransientTaskError" in text
        assert f"on attempt {number + 1}" in text
    for number in (0, 1):
        backoff = attempts.nth(number).locator("td").nth(6).inner_text()
        assert re.fullmatch(r"\d+\.\d{3} s", backoff), backoff
    # And the graph gives each state's outcome by colour and text
    process = browser_page.locator('svg.graph g[data-state="ProcessTask"]')
    assert process.get_attribute("data-outcome") == "caught"
    assert "retried 2x" in (process.text_content() or "")
    assert "outcome-caught" in (process.get_attribute("class") or "")
    dead_letter_state = browser_page.locator('svg.graph g[data-state="SendToDeadLetterQueue"]')
    assert dead_letter_state.get_attribute("data-outcome") == "succeeded"
    assert (
        browser_page.locator('svg.graph g[data-state="TaskFailed"]').get_attribute("data-outcome")
        == "failed"
    )
    assert "not reached" in browser_page.locator(".legend").first.inner_text()
    # And the events table lists the three failures, each opening its error and cause
    events = browser_page.locator("table.events")
    assert events.locator("tr.has-error").count() == 4  # three TaskFailed + ExecutionFailed
    first_failure = browser_page.locator('tr[data-event="5"]')
    assert "TaskFailed" in first_failure.inner_text()
    first_failure.locator("button.expand").click()
    details = first_failure.locator("xpath=following-sibling::tr[1]")
    assert details.is_visible()
    assert "Simulated transient failure" in details.inner_text()
    # Filtering by type keeps only that type
    browser_page.select_option("#event-type", "TaskFailed")
    assert browser_page.locator("table.events tbody tr:not(.details)").count() == 3
    # And the timeline draws the three attempts and two backoffs on one axis
    assert browser_page.locator("svg.timeline rect.bar-failed").count() == 3
    assert browser_page.locator("svg.timeline rect.bar-backoff").count() == 2
    # And the log lines come from `ftb logs`' query, with a link to the Insights page
    browser_page.wait_for_selector("table.logs")
    assert "task-0079" in browser_page.locator("#logs pre.query").inner_text()
    assert "Task dead-lettered" in browser_page.locator("table.logs").inner_text()
    link = browser_page.locator("#logs a", has_text="Logs Insights").get_attribute("href") or ""
    assert link.startswith("/insights?query=")
    # And its dead letter and the commands that show it
    assert "TransientTaskError" in browser_page.locator("#dead-letter").inner_text()
    assert "--aws-sigv4" in browser_page.locator("#commands").inner_text()
    watch.assert_clean()
    _shot(browser_page, "task_page_retried_dead_lettered")


def test_insights_runs_a_query_and_reports_a_malformed_one(
    page: tuple[Any, PageWatch], console_url: str
) -> None:
    browser_page, watch = page
    browser_page.goto(console_url + "/insights")
    browser_page.wait_for_selector("#q-text")
    assert "(the state machine's)" in browser_page.locator("fieldset.groups").inner_text()
    browser_page.fill("#q-text", "fields @message\n| filter @message like /task-0079/\n| limit 5")
    browser_page.click("#q-run")
    browser_page.wait_for_selector("table.results tbody tr")
    assert "task-0079" in browser_page.locator("table.results").inner_text()
    # When the query is malformed, the message names its line and column
    browser_page.fill("#q-text", "fields @message\n| filter @message like /x/\n| sortt @timestamp")
    browser_page.click("#q-run")
    error = browser_page.wait_for_selector("#q-error")
    assert re.search(r"line 3, column \d+", error.inner_text()), error.inner_text()
    # (the browser logs the malformed query's 400 answer; nothing else)
    assert [e for e in watch.errors if "status of 400" not in e] == []
    assert watch.off_machine == []


def test_dead_letters_page_lists_the_dead_lettered(
    page: tuple[Any, PageWatch], console_url: str
) -> None:
    browser_page, watch = page
    browser_page.goto(console_url + "/dead-letters")
    browser_page.wait_for_selector("table.dead-letters")
    listed = browser_page.locator("table.dead-letters tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.task)"
    )
    assert set(listed) >= {RETRIED_AND_DEAD_LETTERED, FAILS_PERMANENTLY}
    assert (
        "why the dead-letter queue itself is empty"
        in browser_page.locator(".explain").inner_text().lower()
    )
    watch.assert_clean()


def test_redrive_from_the_task_page_shows_the_new_run(
    page: tuple[Any, PageWatch], console_url: str, console_cloud: LocalCloudProcess
) -> None:
    # Given the page of the dead-lettered task, once the fix is shipped (the README's step)
    browser_page, watch = page
    fix = [sys.executable, "-m", "ftb.cli", "set-env", "process-task", "FAILURE_RATE=0"]
    fix += ["--state-file", str(console_cloud.state_file)]
    subprocess.run(fix, cwd=REPO_ROOT, check=True, capture_output=True, timeout=120)
    browser_page.goto(f"{console_url}/tasks/{RETRIED_AND_DEAD_LETTERED}")
    # When the operator redrives it, with the keyboard, and confirms
    browser_page.focus("#redrive")
    browser_page.keyboard.press("Enter")
    browser_page.wait_for_selector("dialog[open]")
    browser_page.click("#confirm-redrive")
    # Then the page shows run 2, which ends SUCCEEDED (the walkthrough's redrive)
    browser_page.wait_for_url(re.compile(r".*\?run=2$"))
    browser_page.wait_for_selector("nav.runs")
    assert "Run 2 (redrive) · current" in browser_page.locator("nav.runs").inner_text()
    browser_page.wait_for_function(
        "() => document.querySelector('h1 .status')?.textContent === 'SUCCEEDED'", timeout=60000
    )
    assert "task-0079-r1" in browser_page.locator("dl.summary").inner_text()
    # (its log lines loaded: leaving the page now cuts no request short)
    browser_page.wait_for_function(
        "() => document.querySelector('#logs-h')?.textContent.startsWith('Log lines (')",
        timeout=60000,
    )
    # And run 1 is still there, failed
    browser_page.click("nav.runs a >> text=Run 1")
    browser_page.wait_for_selector("table.attempts")
    assert browser_page.locator("table.attempts tbody tr").count() == 3
    watch.assert_clean()


# -- the server's protections (no browser needed) ---------------------------------------------


def _post(url: str, headers: dict[str, str]) -> int:
    body = json.dumps({"taskIds": [FAILS_PERMANENTLY]}).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_a_cross_site_redrive_is_refused(console_url: str) -> None:
    shell = urllib.request.urlopen(console_url + "/tasks", timeout=10).read().decode()
    token = re.search(r'name="console-token" content="([^"]+)"', shell)
    assert token is not None
    url = console_url + "/api/redrive"
    json_type = {"Content-Type": "application/json"}
    # No token (a form or fetch from another site cannot read it): refused
    assert _post(url, json_type) == 403
    # The token but another origin, or a cross-site fetch: refused
    with_token = {**json_type, "X-Console-Token": token.group(1)}
    assert _post(url, {**with_token, "Origin": "http://evil.example"}) == 403
    assert _post(url, {**with_token, "Sec-Fetch-Site": "cross-site"}) == 403
    # Another Host name (DNS rebinding): refused
    assert _post(url, {**with_token, "Host": "evil.example:80"}) == 421
