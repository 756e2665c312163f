"""A burst of 10x Step Functions' StartExecution bucket: throttled, absorbed, nothing lost.

The local cloud enforces the bucket scaled by 0.01 (burst 13, 3 tokens/s, from AWS's 1,300
and 300/s). 130 tasks arrive at once. The starter fails only the throttled records (partial
batch response) and hides each for a growing backoff; the mapping's MaximumConcurrency caps
how many batches hammer the bucket. Both are what keeps every task within the task queue's
maxReceiveCount (50): no task may be dead-lettered by throttling.

The same burst runs side by side on two clouds: the stack's MaximumConcurrency (5) and a
what-if of 2 (`--fault esm-max-concurrency:task-queue=2`), to show what the cap changes.
Scaled time: starter backoff base 1 s, cap 60 s (AWS: 5 s, 300 s).
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.support.accounting import (
    Request,
    TaskPlan,
    executions,
    fault_args,
    fault_counters,
    monitor_records,
    queue_depth,
    render_columns,
    running_executions,
    starter_receive_counts,
    submit_all,
    wait_until_quiet,
)
from tests.support.local_cloud import LocalCloudProcess

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(900)]

BUCKET_SCALE = 0.01
BUCKET_BURST = 13  # round(1,300 x 0.01)
BURST = 10 * BUCKET_BURST
MAX_RECEIVE_COUNT = 50  # the task queue's redrive policy (infra/names.py)
DRAIN_TIMEOUT_SECONDS = 420
VARIANTS = {
    "stack (MaximumConcurrency 5)": [],
    "what-if MaximumConcurrency 2": ["esm-max-concurrency:task-queue=2"],
}
SCALED_TIME_ENV = [
    "start-execution:START_BACKOFF_BASE_SECONDS=1",
    "start-execution:START_BACKOFF_MAX_SECONDS=60",
    # Only throttling is under test here: every task succeeds at its first attempt.
    "process-task:FAILURE_RATE=0",
]


@dataclass
class BurstResult:
    plans: list[TaskPlan]
    submit_seconds: float = 0.0
    drain_seconds: float = 0.0
    peak_running: int = 0
    executions: dict[str, list[str]] = field(default_factory=dict)  # name -> statuses
    receive_counts: dict[str, int] = field(default_factory=dict)
    intake_dead_letters: int = 0
    queues_left: int = 0
    faults: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="module")
def clouds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, LocalCloudProcess]]:
    work_dir = tmp_path_factory.mktemp("throttling")
    started = {}
    for index, (name, extra) in enumerate(VARIANTS.items()):
        faults = [f"start-execution-bucket-scale={BUCKET_SCALE}", *extra]
        args = fault_args(faults, SCALED_TIME_ENV)
        started[name] = LocalCloudProcess(f"burst-{index}", args, work_dir)
    try:
        for cloud in started.values():  # both start together: their start-ups overlap
            cloud.start()
        yield {name: cloud.wait_ready() for name, cloud in started.items()}
    finally:
        for cloud in started.values():
            cloud.stop(timeout=60)


def run_burst(cloud: LocalCloudProcess, run: str) -> BurstResult:
    plans = [
        TaskPlan(task_id, "normal", {"n": n}, [Request(task_id, {"n": n})])
        for n in range(BURST)
        for task_id in [f"burst-{run}-{n:04d}-{'4' if n % 10 == 3 else n % 10}"]
    ]
    result = BurstResult(plans)
    done = threading.Event()

    def sample_running() -> None:
        while not done.is_set():
            with contextlib.suppress(Exception):  # a slow endpoint: the next sample will do
                result.peak_running = max(result.peak_running, running_executions(cloud))
            done.wait(0.5)

    sampler = threading.Thread(target=sample_running, daemon=True)
    sampler.start()
    started = time.monotonic()
    try:
        result.submit_seconds = submit_all(cloud.tasks_endpoint, plans, clients=16)
        wait_until_quiet(cloud, timeout=DRAIN_TIMEOUT_SECONDS, interval=1.0)
        result.drain_seconds = time.monotonic() - started
    finally:
        done.set()
        sampler.join(timeout=10)
    for execution in executions(cloud, describe=False):
        result.executions.setdefault(execution.name, []).append(execution.status)
    result.receive_counts = starter_receive_counts(cloud)
    result.intake_dead_letters = sum(
        1 for r in monitor_records(cloud) if r.get("source") == "intake"
    )
    result.queues_left = queue_depth(cloud, cloud.outputs["TaskQueueUrl"]) + queue_depth(
        cloud, cloud.outputs["DeadLetterQueueUrl"]
    )
    result.faults = fault_counters(cloud)
    return result


def test_a_burst_of_ten_buckets_is_absorbed_without_a_dead_letter(
    clouds: dict[str, LocalCloudProcess], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given two clouds enforcing the scaled StartExecution bucket (burst 13, 3/s)
    run = uuid.uuid4().hex[:6]

    # When 130 tasks arrive at once on each
    with ThreadPoolExecutor(max_workers=len(clouds)) as pool:
        futures = {name: pool.submit(run_burst, cloud, run) for name, cloud in clouds.items()}
        results = {name: future.result() for name, future in futures.items()}

    rows: list[tuple[str, list[str]]] = []

    def row(label: str, values: list[Any]) -> None:
        rows.append((label, [str(value) for value in values]))

    def counter(result: BurstResult, key: str) -> int:
        return int(result.faults["counters"].get(key, 0))

    starter = next(iter(clouds.values())).function_name("start-execution")
    values = list(results.values())
    row("tasks in the burst (10x the bucket's 13)", [len(r.plans) for r in values])
    row("accepted (202)", [sum(p.accepted for p in r.plans) for r in values])
    row("time to submit", [f"{r.submit_seconds:.1f} s" for r in values])
    row("time to drain (first submit -> quiet)", [f"{r.drain_seconds:.1f} s" for r in values])
    row("tasks started per second", [f"{BURST / r.drain_seconds:.2f}" for r in values])
    row("StartExecution calls", [counter(r, "startExecution.calls") for r in values])
    row(
        "throttles absorbed (bucket)",
        [counter(r, "startExecution.throttled.bucket") for r in values],
    )
    row(
        "peak concurrent starter invocations",
        [r.faults["functions"].get(starter, {}).get("peakInFlight", 0) for r in values],
    )
    row("peak executions in flight (RUNNING)", [r.peak_running for r in values])
    row(
        f"max receives of a task (maxReceiveCount {MAX_RECEIVE_COUNT})",
        [max(r.receive_counts.values(), default=1) for r in values],
    )
    row("tasks throttled at least once", [len(r.receive_counts) for r in values])
    row(
        "executions: exactly one per task, SUCCEEDED",
        [sum(r.executions.get(p.task_id) == ["SUCCEEDED"] for p in r.plans) for r in values],
    )
    row("dead letters from throttling", [r.intake_dead_letters for r in values])
    row("messages left in the queues", [r.queues_left for r in values])
    with capsys.disabled():
        print()
        print(
            render_columns(
                "Throttling: a burst of 10x the StartExecution bucket (AWS x 0.01: 13, 3/s)",
                list(results),
                rows,
            )
        )

    # Then, on both, every task started exactly once and nothing was dead-lettered
    for name, result in results.items():
        assert all(p.accepted for p in result.plans), name
        assert all(result.executions.get(p.task_id) == ["SUCCEEDED"] for p in result.plans), (
            f"{name}: not every task has exactly one SUCCEEDED execution"
        )
        assert set(result.executions) == {p.task_id for p in result.plans}, name
        assert result.intake_dead_letters == 0, name
        assert result.queues_left == 0, name
        assert max(result.receive_counts.values(), default=1) < MAX_RECEIVE_COUNT, name
        # ... the bucket really throttled the burst (the test would prove nothing otherwise)
        assert counter(result, "startExecution.throttled.bucket") > 0, name
