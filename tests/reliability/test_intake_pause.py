"""Pausing intake: an operator disables the starter's event source mapping under load, tasks
wait in the queue, and after resuming every one of them runs exactly once.

Lambda documents that a disabled mapping stops polling and, enabled again, resumes where it
stopped without losing records (UpdateEventSourceMapping, `Enabled`); the mapping's State
goes Disabling -> Disabled and Enabling -> Enabled.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.accounting import (
    TERMINAL,
    executions,
    fault_args,
    local_cloud,
    wait_until_quiet,
)
from tests.support.local_cloud import LocalCloudProcess, starts_a_local_cloud, wait_for

WAVE = 40  # tasks per wave: submitted while pausing, then while paused
CLIENTS = 8


@pytest.fixture(scope="module")
@starts_a_local_cloud
def intake_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    args = fault_args([], ["process-task:FAILURE_RATE=0"])
    with local_cloud("intake", args, tmp_path_factory.mktemp("intake")) as cloud:
        yield cloud


def _submit_all(cloud: LocalCloudProcess, task_ids: list[str]) -> list[int]:
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        return list(pool.map(lambda task_id: cloud.submit(task_id).status, task_ids))


def test_a_paused_starter_holds_tasks_in_the_queue_and_loses_none(
    intake_cloud: LocalCloudProcess,
) -> None:
    cloud = intake_cloud
    lam = cloud.client("lambda")
    starter = cloud.function_name("start-execution")
    (mapping,) = lam.list_event_source_mappings(FunctionName=starter)["EventSourceMappings"]
    uuid = mapping["UUID"]
    first = [f"pause-a-{n:03d}" for n in range(WAVE)]
    held = [f"pause-b-{n:03d}" for n in range(WAVE)]
    statuses: list[int] = []
    try:
        # Given tasks arriving from concurrent clients
        load = threading.Thread(target=lambda: statuses.extend(_submit_all(cloud, first)))
        load.start()
        time.sleep(0.5)
        # When the operator pauses the starter's mapping in the middle of the load
        paused = lam.update_event_source_mapping(UUID=uuid, Enabled=False)
        assert paused["State"] in {"Disabling", "Disabled"}
        wait_for(
            lambda: lam.get_event_source_mapping(UUID=uuid)["State"] == "Disabled",
            60,
            "the mapping to be Disabled",
        )
        load.join(timeout=120)
        # ...and more tasks arrive while it is paused
        statuses.extend(_submit_all(cloud, held))
        assert statuses == [202] * (2 * WAVE)

        # Then the tasks wait in the queue: none is received, none of the held ones started
        time.sleep(3)  # longer than a poll: a live poller would have taken some
        visible, in_flight = cloud.queue_counts(cloud.outputs["TaskQueueUrl"])
        assert in_flight == 0
        assert visible >= len(held)
        started = {e.name for e in executions(cloud, describe=False)}
        assert not started & set(held)

        # When intake resumes
        resumed = lam.update_event_source_mapping(UUID=uuid, Enabled=True)
        assert resumed["State"] in {"Enabling", "Enabled"}
        wait_for(
            lambda: lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled",
            60,
            "the mapping to be Enabled",
        )
        wait_until_quiet(cloud, timeout=300)
    finally:
        lam.update_event_source_mapping(UUID=uuid, Enabled=True)

    # Then every task ran exactly once and reached a terminal status
    runs = Counter(e.name for e in executions(cloud, describe=False))
    assert {task_id: runs[task_id] for task_id in first + held} == {
        task_id: 1 for task_id in first + held
    }
    finals = {task_id: cloud.get_task(task_id).json()["status"] for task_id in first + held}
    assert {task_id for task_id, status in finals.items() if status not in TERMINAL} == set()
    # And nothing is left in either queue
    assert cloud.queue_counts(cloud.outputs["TaskQueueUrl"]) == (0, 0)
    assert cloud.queue_counts(cloud.outputs["DeadLetterQueueUrl"]) == (0, 0)
