"""`ftb console --stack`: the console's JSON for a deployed stack (moto), through the same
target resolution as every command, and its redrive through `ftb redrive`'s code."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from ftb.ops import target as targets
from ftb.ops.console.server import ConsoleServer
from task_domain.models import payload_digest
from tests.support.local_cloud import wait_for
from tests.support.ops import REGION, DeployedStack


def _seed(stack: DeployedStack, task_id: str) -> None:
    payload = {"n": 1}
    stack.client("dynamodb").put_item(
        TableName=stack.table_name,
        Item={
            "taskId": {"S": task_id},
            "payloadDigest": {"S": payload_digest(payload)},
            "status": {"S": "QUEUED"},
            "submittedAt": {"S": "2026-01-01T00:00:00.000Z"},
            "executionName": {"S": task_id},
            "enqueued": {"BOOL": True},
            "expiresAt": {"N": str(int(time.time()) + 86400)},
        },
    )
    stack.client("stepfunctions").start_execution(
        stateMachineArn=stack.state_machine_arn,
        name=task_id,
        input=json.dumps({"taskId": task_id, "payload": payload}),
    )


@pytest.fixture
def console(deployed_stack: DeployedStack) -> Iterator[tuple[str, DeployedStack]]:
    target = targets.resolve_stack(deployed_stack.name, region=REGION, profile=None)
    server = ConsoleServer(target, 0)
    server.start()
    try:
        yield server.url, deployed_stack
    finally:
        server.stop()


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def test_the_tasks_show_their_executions_status_on_a_deployed_stack(
    console: tuple[str, DeployedStack],
) -> None:
    # Given a stack with a running task and one whose execution was stopped
    url, stack = console
    _seed(stack, "running-1")
    _seed(stack, "stopped-1")
    stopped = stack.state_machine_arn.replace(":stateMachine:", ":execution:") + ":stopped-1"
    stack.client("stepfunctions").stop_execution(executionArn=stopped)
    # When the tasks page asks for them (its snapshot is at most seconds old)
    expected = {"running-1": "RUNNING", "stopped-1": "FAILED"}

    def statuses() -> dict[str, Any] | None:
        answer = _get(f"{url}/api/tasks")
        found = {item["taskId"]: item["status"] for item in answer["items"]}
        return answer if found == expected else None

    # Then each has its execution's status, the table's field named apart
    answer = wait_for(statuses, 15, f"the tasks page to show {expected}")
    assert {item["recordStatusField"] for item in answer["items"]} == {"QUEUED"}
    assert _get(f"{url}/api/tasks?status=FAILED")["total"] == 1
    # And the overview counts them and says what DescribeAlarms answered
    overview = _get(f"{url}/api/overview")
    assert overview["counts"]["RUNNING"] == 1 and overview["deadLetters"] == 1
    assert "alarms" in overview["alarms"]
    # And a task's page has the graph of the definition its run executed
    page = _get(f"{url}/api/tasks/stopped-1")
    assert page["execution"]["status"] == "ABORTED" and page["redrivable"] is True
    assert {node["id"] for node in page["graph"]["nodes"]} >= {"ProcessTask", "TaskFailed"}


def test_a_redrive_from_the_console_is_ftb_redrives(console: tuple[str, DeployedStack]) -> None:
    url, stack = console
    _seed(stack, "stopped-2")
    stopped = stack.state_machine_arn.replace(":stateMachine:", ":execution:") + ":stopped-2"
    stack.client("stepfunctions").stop_execution(executionArn=stopped)
    with urllib.request.urlopen(f"{url}/tasks", timeout=30) as response:
        token = re.search(r'content="([^"]+)"', response.read().decode().split("console-token")[1])
    assert token is not None
    request = urllib.request.Request(
        f"{url}/api/redrive",
        data=json.dumps({"taskIds": ["stopped-2", "unknown-9"]}).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "X-Console-Token": token.group(1)},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        results = {r["taskId"]: r for r in json.loads(response.read())["results"]}
    # Then the stopped task runs again under the derived name; the unknown one is refused
    assert results["stopped-2"]["outcome"] == "redriven"
    assert results["stopped-2"]["executionName"] == "stopped-2-r1"
    assert results["unknown-9"]["outcome"] == "refused"
    assert "ftb tasks" in results["unknown-9"]["next"]


def test_an_unknown_task_is_a_404_with_a_hint(console: tuple[str, DeployedStack]) -> None:
    url, _stack = console
    with pytest.raises(urllib.error.HTTPError) as raised:
        _get(f"{url}/api/tasks/nobody-1")
    assert raised.value.code == 404
    assert "unknown" in json.loads(raised.value.read())["error"]
