"""One local cloud for the conformance suite: the real app, driven with botocore and the AWS CLI.

The suite asserts that the local endpoint answers each operation a client or console calls as
AWS documents it (shapes, paging, errors), or refuses it in AWS's error shape. Before the tests
run, a small workload leaves data to read: tasks that succeed and tasks that fail permanently
(ids ending in 3, with FAILURE_RATE 0), so there are executions, histories and log lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.aws_cli import CliResult, aws_cli
from tests.support.local_cloud import LocalCloudProcess, starts_a_local_cloud, wait_for

WORKLOAD_SUCCEEDING = [f"conf-ok-{n}" for n in (0, 1, 2, 4)]  # an id ending in 3 fails
WORKLOAD_FAILING = ["conf-bad-3", "conf-bad-13"]


@pytest.fixture(scope="session")
@starts_a_local_cloud
def conformance_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    work_dir: Path = tmp_path_factory.mktemp("conformance")
    cloud = LocalCloudProcess("conformance", ["--set-env", "process-task:FAILURE_RATE=0"], work_dir)
    cloud.start()
    try:
        cloud.wait_ready()
        for task_id in WORKLOAD_SUCCEEDING + WORKLOAD_FAILING:
            assert cloud.submit(task_id).status == 202
        machine = cloud.outputs["StateMachineArn"]
        sfn = cloud.client("stepfunctions")

        def all_terminal() -> bool:
            executions = sfn.list_executions(stateMachineArn=machine)["executions"]
            done = [e for e in executions if e["status"] != "RUNNING"]
            return len(done) >= len(WORKLOAD_SUCCEEDING) + len(WORKLOAD_FAILING)

        wait_for(all_terminal, 120, "the conformance workload to finish")
        yield cloud
    finally:
        cloud.stop()


@pytest.fixture(scope="session")
def aws(conformance_cloud: LocalCloudProcess) -> Callable[..., CliResult]:
    """`aws(service, operation, *args)` against the conformance cloud, through the AWS CLI."""

    def run(*args: str) -> CliResult:
        return aws_cli(conformance_cloud.endpoint_url, conformance_cloud.state["region"], *args)

    return run
