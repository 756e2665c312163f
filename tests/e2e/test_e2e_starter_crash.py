"""A starter (start-execution) worker killed in the middle of a batch loses no task."""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest

from ftb.localcloud.event_sources.sqs import LONG_POLL_SECONDS
from tests.support.local_cloud import LocalCloudProcess, alive, descendants, function_of, wait_for

# A hang guard only: a cold synth (cloud start-up) and every wait are bounded inside.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

# Shortened for the test (set through the SQS API, as an operator could): a batch whose
# invocation failed reappears after the visibility timeout.
TEST_VISIBILITY_SECONDS = 4
# A queue attribute change "can take up to 60 seconds ... to propagate" (SQS API reference,
# SetQueueAttributes). Locally it applies to every ReceiveMessage that starts after it, but a
# poller's long poll already under way (LONG_POLL_SECONDS, plus up to 1 s of moto's wait step)
# still hides what it takes for the old timeout (3 minutes): wait that out, with a margin.
VISIBILITY_CHANGE_SECONDS = LONG_POLL_SECONDS + 3


def workers_of(cloud: LocalCloudProcess, function: str) -> list[int]:
    return [pid for pid in descendants(cloud.pid) if function_of(pid) == function]


def test_a_starter_worker_killed_mid_batch_loses_nothing(cloud: LocalCloudProcess) -> None:
    starter = cloud.function_name("start-execution")
    queue_url = cloud.outputs["TaskQueueUrl"]
    sqs = cloud.client("sqs")
    original = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["VisibilityTimeout"])[
        "Attributes"
    ]["VisibilityTimeout"]
    sqs.set_queue_attributes(
        QueueUrl=queue_url, Attributes={"VisibilityTimeout": str(TEST_VISIBILITY_SECONDS)}
    )
    changed_at = time.monotonic()
    frozen: list[int] = []
    try:
        # Given warm starter workers, frozen (SIGSTOP) so that the next batch hangs in one
        warm = f"warm-{uuid.uuid4().hex[:8]}0"
        assert cloud.submit(warm).status == 202
        cloud.wait_for_status(warm, "SUCCEEDED")
        frozen = workers_of(cloud, starter)
        assert frozen, "no warm start-execution worker"
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)

        # When (once every poller receives with the shortened timeout) a batch of tasks is
        # submitted and taken in flight by a frozen worker
        time.sleep(max(0.0, changed_at + VISIBILITY_CHANGE_SECONDS - time.monotonic()))
        task_ids = [f"crash-{uuid.uuid4().hex[:8]}{n}" for n in (0, 1, 2, 4, 5)]
        for task_id in task_ids:
            assert cloud.submit(task_id).status == 202
        wait_for(lambda: cloud.queue_counts(queue_url)[0] == 0, 60, "every task to be received")
        time.sleep(1.5)  # past the batching window (1 s): the batch is in a worker's hands
        # ... and that worker is killed before it could start anything
        for pid in frozen:
            os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not any(alive(pid) for pid in frozen), 60, "the workers to die")

        # Then the runtime reports the crash as a function error, the batch comes back after
        # the visibility timeout, a new worker starts every task, and each runs exactly once
        for task_id in task_ids:
            cloud.wait_for_status(task_id, "SUCCEEDED", timeout=180)
            assert len(cloud.executions_named(task_id)) == 1
        starter_log = "\n".join(cloud.log_messages(f"/aws/lambda/{starter}"))
        assert "Runtime.ExitError" in starter_log
        assert not (set(workers_of(cloud, starter)) & set(frozen))
    finally:
        for pid in frozen:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"VisibilityTimeout": original})
