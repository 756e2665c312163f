"""End to end: N tasks from the first POST until every execution is terminal, on the local
cloud; per-task latency from its POST to its execution's stop."""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from bench.client import TaskClient, authorizer
from bench.cloud import BenchCloud
from bench.stats import per_second, percentile
from ftb.ops.api_auth import Authorize

Progress = Callable[[str], None]
CLIENTS = 8
DRAIN_TIMEOUT_SECONDS = 1800.0
POLL_SECONDS = 0.5


def task_ids(count: int, prefix: str) -> list[str]:
    """Ids that never end in 3: those always fail permanently (the original system's rule),
    and the figures are about the transient failure rate alone."""
    return [f"{prefix}-{n:06d}-{'0124'[n % 4]}" for n in range(count)]


def submit_all(
    url: str, ids: list[str], clients: int = CLIENTS, authorize: Authorize | None = None
) -> dict[str, float]:
    """POST every task (closed loop, `clients` threads); epoch time each POST was sent."""
    client = TaskClient(url, authorize)
    work: queue.SimpleQueue[str] = queue.SimpleQueue()
    for task_id in ids:
        work.put(task_id)
    sent: dict[str, float] = {}
    failures: list[str] = []
    lock = threading.Lock()

    def run() -> None:
        while True:
            try:
                task_id = work.get_nowait()
            except queue.Empty:
                client.close()
                return
            at = time.time()
            for _ in range(5):  # a 503 says retry; submissions are idempotent
                answer = client.submit(task_id, {"bench": True, "id": task_id})
                if answer.status in (200, 202):
                    break
                time.sleep(0.2)
            with lock:
                sent[task_id] = at
                if answer.status not in (200, 202):
                    failures.append(f"{task_id}: {answer.status} {answer.body[:200]!r}")

    threads = [threading.Thread(target=run, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"{len(failures)} POST(s) refused, e.g. {failures[:3]}")
    return sent


def _all_executions(sfn: Any, machine: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine):
        found.extend(page["executions"])
    return found


def wait_terminal(
    cloud: BenchCloud, expected: set[str], progress: Progress | None
) -> list[dict[str, Any]]:
    """Poll cheaply (queue counts, one RUNNING execution) until the work looks done; then
    list every execution and check that each expected task has a terminal one."""
    sfn, sqs = cloud.client("stepfunctions"), cloud.client("sqs")
    machine, queue_url = cloud.state_machine_arn, cloud.output("TaskQueueUrl")
    deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        attributes = sqs.get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        queued = sum(int(value) for value in attributes.values())
        running = sfn.list_executions(
            stateMachineArn=machine, statusFilter="RUNNING", maxResults=1
        )["executions"]
        if progress:
            progress(f"{queued} queued, {'some' if running else 'none'} running")
        if not queued and not running:
            executions = [e for e in _all_executions(sfn, machine) if e["name"] in expected]
            done = [e for e in executions if e["status"] != "RUNNING"]
            if len({e["name"] for e in done}) >= len(expected):
                return done
        time.sleep(POLL_SECONDS)
    raise RuntimeError("the tasks did not all finish in time")


def measure_cloud(
    cloud: BenchCloud, count: int, progress: Progress | None = None
) -> dict[str, Any]:
    ids = task_ids(count, f"e2e-{uuid.uuid4().hex[:6]}")
    since = cloud.elapsed()
    first_post = time.time()
    sent = submit_all(cloud.tasks_endpoint, ids, authorize=authorizer(cloud.state))
    submitted = time.time()
    if progress:
        progress(f"{count} submitted in {submitted - first_post:.1f} s; draining")
    executions = wait_terminal(cloud, set(ids), progress)
    stops = {e["name"]: e["stopDate"].timestamp() for e in executions}
    return summarize(first_post, submitted, sent, stops, executions, since, cloud)


def summarize(
    first_post: float,
    submitted: float,
    sent: dict[str, float],
    stops: dict[str, float],
    executions: list[dict[str, Any]],
    since: float,
    cloud: BenchCloud | None,
) -> dict[str, Any]:
    last = max(stops.values())
    drain = last - first_post
    latencies = [stops[name] - sent[name] for name in stops]
    statuses: dict[str, int] = {}
    for execution in executions:
        statuses[execution["status"]] = statuses.get(execution["status"], 0) + 1
    figures: dict[str, Any] = {
        "tasks": len(stops),
        "statuses": statuses,
        "submit_seconds": round(submitted - first_post, 2),
        "drain_seconds": round(drain, 2),
        "tasks_per_second": round(len(stops) / drain, 1) if drain > 0 else 0.0,
        "latency_p50_s": round(percentile(latencies, 0.5), 2),
        "latency_p95_s": round(percentile(latencies, 0.95), 2),
        "completed_per_second": per_second(list(stops.values()), first_post),
        "latencies_s": [round(value, 3) for value in latencies],
        "execution_arns": [e["executionArn"] for e in executions],
    }
    if cloud is not None:
        figures["_resources_since"] = since
    return figures


def measure(
    failure_rate: float,
    count: int,
    work_dir: Any,
    progress: Progress | None = None,
    history_sample: int | None = None,
) -> dict[str, Any]:
    """A fresh cloud at `failure_rate`; the run; its resources; the billed transitions."""
    from bench import transitions

    cloud = BenchCloud(
        f"e2e-{failure_rate:g}",
        work_dir,
        set_env={"process-task:FAILURE_RATE": f"{failure_rate:g}"},
    )
    cloud.start()
    try:
        figures = measure_cloud(cloud, count, progress)
        if progress:
            progress("reading execution histories and function reports")
        figures["billing"] = transitions.measure(
            cloud, figures["execution_arns"], failure_rate, sample=history_sample
        )
    finally:
        cloud.stop()
    since = figures.pop("_resources_since", 0.0)
    figures["resources"] = cloud.resources(since)
    figures["failure_rate"] = failure_rate
    figures.pop("execution_arns")
    return figures
