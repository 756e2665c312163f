"""The apiKey mode end to end (the extended cloud runs with `-c apiAuth=apiKey`): the key its
banner and state file give lets a client in; a missing or wrong key, or a signature instead
of the key, is API Gateway's 403 Forbidden and reaches no function; past the usage plan's
burst, API Gateway's 429; `ftb submit` and `ftb status` send the key by themselves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from infra import names
from tests.support.api_auth import access_for
from tests.support.local_cloud import REPO_ROOT, LocalCloudProcess, wait_for
from tests.support.raw_http import Answer, send

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

JSON = {"Content-Type": "application/json"}


def invocations(cloud: LocalCloudProcess, key: str) -> int:
    group = f"/aws/lambda/{cloud.function_name(key)}"
    return sum(1 for m in cloud.log_messages(group) if m.startswith("START RequestId:"))


def settled_invocations(cloud: LocalCloudProcess, key: str) -> int:
    def settled() -> list[int] | None:  # a list: 0 invocations is an answer too
        first = invocations(cloud, key)
        time.sleep(1.5)
        return [first] if invocations(cloud, key) == first else None

    return wait_for(settled, 60, f"{key}'s log group to settle")[0]


def test_the_key_from_the_state_file_lets_a_client_in_and_nothing_else_does(
    extra_cloud: LocalCloudProcess,
) -> None:
    # Given the cloud's mode and key, as its state file and banner give them
    assert extra_cloud.outputs[names.OUT_API_AUTHORIZATION] == names.API_AUTH_API_KEY
    key_id = extra_cloud.outputs[names.OUT_API_KEY_ID]
    key = extra_cloud.state["apiKeys"][key_id]
    assert len(key) == 40 and key in extra_cloud.log_file.read_text()
    access = access_for(extra_cloud.tasks_endpoint)
    assert access is not None
    before = settled_invocations(extra_cloud, "submit-task")
    body = json.dumps({"taskId": f"key-{uuid.uuid4().hex[:8]}0", "payload": {}}).encode()

    # When a client sends no key, a wrong key, or a SigV4 signature instead of the key
    refused: list[Answer] = [
        send(extra_cloud.tasks_endpoint, body=body, headers=JSON, signed=False),
        send(
            extra_cloud.tasks_endpoint,
            body=body,
            headers={**JSON, "x-api-key": "x" * 40},
            signed=False,
        ),
        send(
            extra_cloud.tasks_endpoint,
            body=body,
            headers=access.signer()("POST", extra_cloud.tasks_endpoint, JSON, body),
            signed=False,
        ),
    ]
    # Then each is API Gateway's 403 Forbidden
    for answer in refused:
        assert answer.status == 403, answer.body
        assert answer.json() == {"message": "Forbidden"}
        assert answer.headers["x-amzn-errortype"] == "ForbiddenException"

    # When the key is sent  Then the task is accepted, and only that request ran the function
    accepted = send(extra_cloud.tasks_endpoint, body=body, headers={**JSON, "x-api-key": key})
    assert accepted.status == 202, accepted.body
    wait_for(lambda: invocations(extra_cloud, "submit-task") > before, 30, "the invocation")
    assert settled_invocations(extra_cloud, "submit-task") == before + 1


def test_past_the_usage_plans_burst_api_gateway_answers_429(
    extra_cloud: LocalCloudProcess,
) -> None:
    # Given requests the gateway answers itself (an invalid body: 400 after the key's plan
    # counted it), three times the plan's burst, sent at once
    count = 3 * names.API_KEY_BURST

    def post(_: int) -> Answer:
        return send(extra_cloud.tasks_endpoint, body=b"[]", headers=JSON)

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(post, range(count)))
    # Then past the burst the answers are API Gateway's 429 Too Many Requests, the rest 400
    statuses = sorted({a.status for a in answers})
    throttled = [a for a in answers if a.status == 429]
    assert statuses == [400, 429], statuses
    assert all(a.json() == {"message": "Too Many Requests"} for a in throttled)
    assert all(a.headers["x-amzn-errortype"] == "TooManyRequestsException" for a in throttled)
    print(f"\nusage plan burst {names.API_KEY_BURST}: {len(throttled)} of {count} throttled")
    time.sleep(names.API_KEY_BURST / names.API_KEY_RATE + 1)  # the bucket refills


def test_ftb_submit_and_status_send_the_key_by_themselves(extra_cloud: LocalCloudProcess) -> None:
    env = {**os.environ, "FTB_STATE_FILE": str(extra_cloud.state_file)}
    env.pop("FTB_STACK", None)
    prefix = f"cli-key-{uuid.uuid4().hex[:6]}"
    submitted = subprocess.run(
        [sys.executable, "-m", "ftb.cli", "submit", "--count", "5", "--prefix", prefix, "--json"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert submitted.returncode == 0, submitted.stderr
    report = json.loads(submitted.stdout)
    assert report["accepted"] == 5 and report["rejected"] == 0, report
    task_id = f"{prefix}-0001"
    status = subprocess.run(
        [sys.executable, "-m", "ftb.cli", "status", task_id, "--json"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert status.returncode in (0, 1), status.stderr  # 1: the task failed (FAILURE_RATE 0.5)
    [view] = json.loads(status.stdout)
    assert view["taskId"] == task_id and view["status"] != "ERROR", view
