"""The task console's figures (issue 18), on a local cloud with its console:

- task_page: a task with three runs (a permanent failure, redriven twice through the
  console's own POST), opened in headless Chromium: milliseconds until the page is ready
  (graph, attempts, timeline, events drawn) and until its log lines are in. Target < 1 s.
- tasks_page: 10,000 task records (written with BatchWriteItem: submitting them through the
  API would take the whole bench) plus the submitted ones; server time of GET /api/tasks for
  pages, filters and a search, warm (from the snapshot), and the snapshot's refresh time (the
  scan and the ListExecutions it is built from). Target < 500 ms.
- cpu_per_page: while `ftb submit` runs a load, each page is loaded in the browser: CPU of
  the console process per page; then, the load drained, the CPU the cloud (ftb local and its
  workers) spends per page beyond its idle rate (under a load that figure is lost in noise).

Run alone: `python -m bench --only console` (or `python -m bench.console`).
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

import psutil

from bench.cloud import REPO_ROOT, BenchCloud

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
THREE_RUNS_TASK = "bench-console-3"  # ends in 3: fails permanently, every run
RECORDS = 10_000
PAGES = ["/", "/tasks", f"/tasks/{THREE_RUNS_TASK}", "/dead-letters", "/insights"]


def _get(url: str) -> tuple[float, Any]:
    began = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as response:
        body = json.loads(response.read())
    return (time.perf_counter() - began) * 1000, body


def _post(url: str, token: str, body: Any) -> Any:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "X-Console-Token": token},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def _token(console: str) -> str:
    with urllib.request.urlopen(console + "/tasks", timeout=30) as response:
        shell = response.read().decode()
    found = re.search(r'name="console-token" content="([^"]+)"', shell)
    assert found is not None
    return found.group(1)


def _wait(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.25)


def _failed_run(console: str, run: int) -> bool:
    """Has the task's run `run` (its current one) failed?"""
    task = _get(f"{console}/api/tasks/{THREE_RUNS_TASK}")[1]
    return len(task["runs"]) == run and task["task"]["status"] == "FAILED"


def _console_process(cloud: BenchCloud) -> psutil.Process:
    assert cloud.process is not None
    for child in psutil.Process(cloud.process.pid).children(recursive=True):
        try:
            if "console" in child.cmdline():
                return child
        except psutil.Error:
            continue
    raise RuntimeError("no console process under ftb local")


def _tree_cpu(root: psutil.Process, skip: int) -> float:
    total = 0.0
    for member in [root, *root.children(recursive=True)]:
        if member.pid == skip:
            continue
        try:
            times = member.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            continue
    return total


def _submit(cloud: BenchCloud, count: int, prefix: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "ftb.cli", "submit", "--count", str(count)]
    command += ["--prefix", prefix, "--state-file", str(cloud.state_file)]
    return subprocess.Popen(
        command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _seed_records(cloud: BenchCloud, count: int) -> None:
    """`count` task records as submit-task writes them (no execution: QUEUED)."""
    dynamodb = cloud.client("dynamodb")
    table = cloud.output("TasksTableName")
    now = datetime.now(UTC)
    for first in range(0, count, 25):
        items = []
        for number in range(first, min(first + 25, count)):
            task_id = f"seeded-{number:05d}"
            items.append(
                {
                    "PutRequest": {
                        "Item": {
                            "taskId": {"S": task_id},
                            "payloadDigest": {"S": "0" * 64},
                            "status": {"S": "QUEUED"},
                            "submittedAt": {"S": now.isoformat().replace("+00:00", "Z")},
                            "executionName": {"S": task_id},
                            "enqueued": {"BOOL": True},
                            "expiresAt": {"N": str(int(now.timestamp()) + 86400)},
                        }
                    }
                }
            )
        dynamodb.batch_write_item(RequestItems={table: items})


def _page_ready_ms(page: Any, url: str) -> tuple[float, float]:
    began = time.perf_counter()
    page.goto(url)
    page.wait_for_selector("table.events")
    ready = (time.perf_counter() - began) * 1000
    page.wait_for_selector("#logs-h:has-text('Log lines (')")
    return ready, (time.perf_counter() - began) * 1000


def measure(
    quick: bool = False,
    start_cloud: Callable[..., BenchCloud] | None = None,
    progress: Callable[[str], None] = lambda _line: None,
) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from tests.support import api_auth
    from tests.support.local_cloud import http

    if start_cloud is None:
        import tempfile
        from pathlib import Path

        work = Path(tempfile.mkdtemp(prefix="ftb-bench-console-"))

        def start_cloud(name: str, **kwargs: Any) -> BenchCloud:
            return BenchCloud(name, work, **kwargs).start()

    progress("starting a local cloud with its console")
    cloud = start_cloud("console", set_env={"process-task:FAILURE_RATE": "0"})
    try:
        api_auth.register(cloud.state)
        console = str(cloud.state["companions"]["ConsoleUrl"])
        _wait(lambda: _answers(console), 60, "the console")
        token = _token(console)
        # -- a task with three runs ------------------------------------------------------
        progress("a task with three runs")
        body = {"taskId": THREE_RUNS_TASK, "payload": {"n": 1}}
        assert http("POST", cloud.tasks_endpoint, body).status == 202
        for run in (1, 2, 3):
            _wait(partial(_failed_run, console, run), 120, f"run {run} to fail")
            if run < 3:
                answer = _post(console + "/api/redrive", token, {"taskIds": [THREE_RUNS_TASK]})
                if answer["results"][0]["outcome"] != "redriven":
                    raise RuntimeError(f"the redrive was not done: {answer}")
        loads = 5 if quick else 15
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{console}/tasks/{THREE_RUNS_TASK}")  # warm
            page.wait_for_selector("table.events")
            ready, with_logs = [], []
            for _ in range(loads):
                first, second = _page_ready_ms(page, f"{console}/tasks/{THREE_RUNS_TASK}")
                ready.append(first)
                with_logs.append(second)
            task_page = {
                "runs": 3,
                "loads": loads,
                "ready_ms_median": round(statistics.median(ready), 1),
                "ready_ms_max": round(max(ready), 1),
                "with_log_lines_ms_median": round(statistics.median(with_logs), 1),
                "target_ms": 1000,
            }
            # -- CPU per page while a load runs -------------------------------------------
            progress("CPU per page under load")
            console_process = _console_process(cloud)
            assert cloud.process is not None
            root = psutil.Process(cloud.process.pid)
            load_tasks = 150 if quick else 400
            submitter = _submit(cloud, load_tasks, "bench-load-a")
            time.sleep(3)
            rounds = 2 if quick else 4
            per_page: dict[str, Any] = {}
            for path in PAGES:
                before = console_process.cpu_times()
                began = time.monotonic()
                for _ in range(rounds):
                    page.goto(console + path)
                    page.wait_for_load_state("networkidle")
                elapsed = time.monotonic() - began
                after = console_process.cpu_times()
                used = (after.user + after.system) - (before.user + before.system)
                per_page[path] = {
                    "console_cpu_ms_per_page": round(used * 1000 / rounds, 1),
                    "wall_ms_per_page_under_load": round(elapsed * 1000 / rounds, 1),
                }
            submitter.wait(timeout=600)
            # The cloud's own CPU per page (its endpoint answering the console's calls) is
            # lost in a load's noise: measured once the load has drained, against the idle rate.
            progress("the cloud's CPU per page, idle")
            time.sleep(5)
            idle_before, idle_began = _tree_cpu(root, console_process.pid), time.monotonic()
            time.sleep(6)
            idle_rate = (_tree_cpu(root, console_process.pid) - idle_before) / (
                time.monotonic() - idle_began
            )
            for path in PAGES:
                cloud_before, began = _tree_cpu(root, console_process.pid), time.monotonic()
                for _ in range(rounds):
                    page.goto(console + path)
                    page.wait_for_load_state("networkidle")
                elapsed = time.monotonic() - began
                used = _tree_cpu(root, console_process.pid) - cloud_before - idle_rate * elapsed
                per_page[path]["cloud_cpu_ms_per_page"] = round(used * 1000 / rounds, 1)
            browser.close()
        # -- the tasks page over 10,000 tasks --------------------------------------------
        progress(f"writing {RECORDS} task records")
        _seed_records(cloud, RECORDS)
        time.sleep(3)  # let the background refresh take the new records in
        _get(f"{console}/api/tasks")
        _wait(lambda: _get(f"{console}/api/tasks")[1]["all"] >= RECORDS, 120, "the snapshot")
        queries = {
            "first_page": "",
            "page_100": "?page=100",
            "status_failed": "?status=FAILED",
            "status_queued_page_50": "?status=QUEUED&page=50",
            "search": "?q=seeded-0777",
            "last_hour": "?since=1h&page=3",
        }
        server: dict[str, Any] = {}
        for name, query in queries.items():
            times = [_get(f"{console}/api/tasks{query}")[0] for _ in range(5)]
            server[name] = round(statistics.median(times), 1)
        index_refresh_ms = _refresh_ms(console)
        tasks_page = {
            "tasks": _get(f"{console}/api/tasks")[1]["all"],
            "request_ms_median": server,
            "snapshot_refresh_ms": index_refresh_ms,
            "target_ms": 500,
        }
    finally:
        cloud.stop()
    return {
        "benchmark": "console",
        # The figures make bench's table shows (report.py lists a section's scalars).
        "task_page_ready_ms (3 runs; target < 1000)": task_page["ready_ms_median"],
        "tasks_page_server_ms_worst (10,000 tasks; target < 500)": max(server.values()),
        "console_cpu_ms_per_page_worst (under load)": max(
            figures["console_cpu_ms_per_page"] for figures in per_page.values()
        ),
        "task_page": task_page,
        "tasks_page": tasks_page,
        "cpu_per_page": {"load_tasks": load_tasks, "pages": per_page},
    }


def _answers(url: str) -> bool:
    try:
        _get(url + "/api/target")
        return True
    except OSError:
        return False


def _refresh_ms(console: str) -> float | None:
    """The snapshot's last refresh (scan + listing), as the overview reports it."""
    return _get(f"{console}/api/index")[1].get("refreshMs")


if __name__ == "__main__":
    print(json.dumps(measure(quick="--quick" in sys.argv), indent=2))
