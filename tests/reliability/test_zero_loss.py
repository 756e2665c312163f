"""Zero loss, zero duplicates, with every fault of `ftb local --fault` on at once.

N taskIds (FTB_RELIABILITY_N; 60 in `make test`, 2,000 in `make reliability`): normal ones,
ids ending in 3 (permanent failures), duplicates sent concurrently, conflicting reuses sent
concurrently with the original. Then, once both queues are empty and no execution runs, the
accounting (tests/reliability/_accounting.py) proves from the cloud's own records that every
accepted taskId ran exactly once and ended, every failure was logged by the monitor, no
conflicting payload ran, nothing was dead-lettered by throttling and no message is left.

Scaled time (docs/reliability.md): the StartExecution token bucket is AWS's x 0.01, the
starter's backoff base/cap 1 s/60 s (AWS 5 s/300 s), the task queue's visibility timeout
31 s (AWS 181 s) and the dead-letter queue's 10 s (AWS 180 s), so that the run takes minutes.
The assertions are the same at every size.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.accounting import (
    collect,
    fault_args,
    local_cloud,
    plan_workload,
    render,
    size_from_env,
    submit_all,
    wait_until_quiet,
)
from tests.support.local_cloud import LocalCloudProcess

N = size_from_env("FTB_RELIABILITY_N", 60)
# Generous: the full run's drain is bounded by the scaled bucket (3 starts/s) and backoff.
DRAIN_TIMEOUT_SECONDS = 240 + 1.5 * N

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(int(DRAIN_TIMEOUT_SECONDS) + 600)]

EVERY_FAULT = [
    "seed=zero-loss",
    # The starter dies before StartExecution, after it succeeded, and after its handler
    # returned (every start done, the answer lost).
    "crash:start-execution:before-call.states.StartExecution=0.03",
    "crash:start-execution:after-call.states.StartExecution=0.03",
    "crash:start-execution:after-handler=0.05",
    # submit-task dies between its writes: the client sees a 502 and retries.
    "crash:submit-task:after-call.dynamodb.PutItem=0.02",
    "crash:submit-task:after-call.sqs.SendMessage=0.02",
    # process-task dies (the workflow catches it); the monitor dies after logging.
    "crash:process-task:after-handler=0.01",
    "crash:monitor-dlq:after-handler=0.1",
    # A third of the monitor's batches fail after it ran (its records come back).
    "function-error:monitor-dlq=0.3",
    # Step Functions throttles: at random, and by its token bucket (burst 13, 3/s).
    "start-execution-throttle=0.1",
    "start-execution-bucket-scale=0.01",
    # Every SQS delivery is held up to 1 s.
    "sqs-delay=1",
    # Scaled time.
    "visibility-timeout:task-queue=31",
    "visibility-timeout:dead-letter-queue=10",
]
SCALED_TIME_ENV = [
    "start-execution:START_BACKOFF_BASE_SECONDS=1",
    "start-execution:START_BACKOFF_MAX_SECONDS=60",
]


@pytest.fixture(scope="module")
def faulty_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    work_dir: Path = tmp_path_factory.mktemp("zero-loss")
    with local_cloud("zero-loss", fault_args(EVERY_FAULT, SCALED_TIME_ENV), work_dir) as cloud:
        yield cloud


def test_every_accepted_task_runs_exactly_once_under_every_fault(
    faulty_cloud: LocalCloudProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    cloud = faulty_cloud
    # Given N taskIds of every kind, sent by concurrent clients that retry a 5xx
    plans = plan_workload(N, run=uuid.uuid4().hex[:6])

    # When they are submitted while every fault is injected, and the system goes quiet
    submit_seconds = submit_all(cloud.tasks_endpoint, plans)
    drain_seconds = wait_until_quiet(cloud, timeout=DRAIN_TIMEOUT_SECONDS)
    timings = {"submit": submit_seconds, "drain after submit": drain_seconds}
    result = collect(cloud, plans, timings)
    with capsys.disabled():
        print()
        print(render(f"Zero-loss accounting: N={N} taskIds, every fault on", result))

    # Then every promise holds, and the faults really happened
    assert result.ok, "\n".join(
        f"{c.name}: expected {c.expected}, observed {c.observed}" for c in result.failures()
    )
    counters = result.faults["counters"]
    assert result.faults["workerCrashesTotal"] > 0, "no worker was ended"
    throttles = counters.get("startExecution.throttled.bucket", 0) + counters.get(
        "startExecution.throttled.random", 0
    )
    assert throttles > 0, "StartExecution was never throttled"
    assert any(key.startswith("sqsDelay.") for key in counters), "no delivery was delayed"
