"""Drive `ftb local` as a user does: a subprocess on free ports, reached over HTTP and boto3.

A subprocess (not threads in the pytest process) because the other suites patch botocore
with moto's in-process mock: a local cloud sharing their process would be intercepted.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import boto3
from botocore.config import Config

from tests.support import api_auth

REPO_ROOT = Path(__file__).resolve().parents[2]
EXTRA_APP = "tests.support.extra_app.app"
# The extended cloud's process-task: transient failures, reproducible per (taskId, attempt).
FAILURE_SEED = "e2e"
EXTRA_FAILURE_RATE = 0.5
READY_TIMEOUT_SECONDS = 240.0  # a cold synth runs node; cached start-up takes seconds

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def starts_a_local_cloud(fixture_function: F) -> F:
    """Mark a fixture that starts a local cloud: every test that needs it is marked `cloud`
    (tests/conftest.py), so `make test-fast` leaves it out."""
    fixture_function.starts_a_local_cloud = True  # type: ignore[attr-defined]
    return fixture_function


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http(
    method: str,
    url: str,
    body: Any = None,
    *,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
    signed: bool = True,
) -> HttpResponse:
    """One HTTP request; a JSON `body` is sent as application/json, `raw` as given. A request
    to a running local cloud's API carries its authorization (a SigV4 signature or the API
    key, tests/support/api_auth.py) unless `signed=False`."""
    data = raw
    all_headers = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        all_headers.setdefault("Content-Type", "application/json")
    if signed:
        all_headers = api_auth.authorize(method, url, all_headers, data)
    request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return HttpResponse(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as error:
        return HttpResponse(error.code, dict(error.headers.items()), error.read())


def wait_for(check: Callable[[], T | None], timeout: float, what: str, interval: float = 0.25) -> T:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class LocalCloudProcess:
    """`python -m ftb.cli local ...` on free ports, with its own state file and log file."""

    def __init__(self, name: str, args: list[str], work_dir: Path, cwd: Path | None = None) -> None:
        self.name = name
        self.args = args
        self.cwd = cwd or REPO_ROOT  # the project `ftb local` runs (a copy, to edit it)
        self.state_file = work_dir / f"{name}.state.json"
        self.log_file = work_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._state: dict[str, Any] | None = None
        self._clients: dict[str, Any] = {}
        self.started_at = 0.0
        self.ready_seconds = 0.0

    def start(self) -> None:
        command = [sys.executable, "-m", "ftb.cli", "local", "--port", "0", "--endpoint-port", "0"]
        command += ["--state-file", str(self.state_file), *self.args]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.started_at = time.monotonic()
        with self.log_file.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=self.cwd, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_ready(self, timeout: float = READY_TIMEOUT_SECONDS) -> LocalCloudProcess:
        if self._state is not None:
            return self
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"ftb local ({self.name}) exited with {self.process.returncode}:\n"
                    + self.log_tail()
                )
            try:
                state = json.loads(self.state_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                state = None
            if state and state.get("pid") == self.process.pid:
                self._state = state
                api_auth.register(state)
                self.ready_seconds = time.monotonic() - self.started_at
                return self
            if time.monotonic() > deadline:
                raise AssertionError(f"ftb local ({self.name}) not ready:\n" + self.log_tail())
            time.sleep(0.2)

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGINT (Ctrl-C), as a user stops it; SIGKILL only if it does not stop in time."""
        if self._state is not None:
            api_auth.unregister(self._state)
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"ftb local ({self.name}) did not stop on SIGINT") from None

    # -- what a user reads --------------------------------------------------------------

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def state(self) -> dict[str, Any]:
        assert self._state is not None, "wait_ready() first"
        return self._state

    @property
    def outputs(self) -> dict[str, str]:
        return dict(self.state["outputs"])

    @property
    def endpoint_url(self) -> str:
        return str(self.state["endpointUrl"])

    @property
    def tasks_endpoint(self) -> str:
        return self.outputs["TasksEndpoint"].rstrip("/")

    def function_name(self, key: str) -> str:
        """`process-task` -> FaultTolerantBackend-process-task (from the stack outputs)."""
        output = "".join(part.capitalize() for part in key.split("-")) + "FunctionName"
        return self.outputs[output]

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.session.Session(  # type: ignore[call-overload]
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                region_name=self.state["region"],
            ).client(
                service,
                endpoint_url=self.endpoint_url,
                config=Config(retries={"max_attempts": 2}, read_timeout=60),
            )
        return self._clients[service]

    # -- the task API -------------------------------------------------------------------

    def submit(self, task_id: str, payload: dict[str, Any] | None = None) -> HttpResponse:
        body = {"taskId": task_id, "payload": payload if payload is not None else {"n": 1}}
        return http("POST", self.tasks_endpoint, body)

    def get_task(self, task_id: str) -> HttpResponse:
        return http("GET", f"{self.tasks_endpoint}/{task_id}")

    def wait_for_status(self, task_id: str, status: str, timeout: float = 60.0) -> dict[str, Any]:
        def finished() -> dict[str, Any] | None:
            response = self.get_task(task_id)
            if response.status != 200:
                return None
            document: dict[str, Any] = response.json()
            if document["status"] in ("SUCCEEDED", "FAILED") and document["status"] != status:
                raise AssertionError(f"task {task_id} ended {document['status']}: {document}")
            return document if document["status"] == status else None

        return wait_for(finished, timeout, f"task {task_id} to be {status}")

    def execution_arn(self, task_id: str) -> str:
        machine = self.outputs["StateMachineArn"]
        return machine.replace(":stateMachine:", ":execution:") + f":{task_id}"

    def history(self, task_id: str) -> list[dict[str, Any]]:
        pages = self.client("stepfunctions").get_paginator("get_execution_history")
        events: list[dict[str, Any]] = []
        for page in pages.paginate(executionArn=self.execution_arn(task_id)):
            events.extend(page["events"])
        return events

    def executions_named(self, task_id: str) -> list[dict[str, Any]]:
        pages = self.client("stepfunctions").get_paginator("list_executions")
        found: list[dict[str, Any]] = []
        for page in pages.paginate(stateMachineArn=self.outputs["StateMachineArn"]):
            found.extend(e for e in page["executions"] if e["name"] == task_id)
        return found

    def log_messages(self, log_group: str) -> list[str]:
        logs = self.client("logs")
        messages: list[str] = []
        for page in logs.get_paginator("filter_log_events").paginate(logGroupName=log_group):
            messages.extend(event["message"] for event in page["events"])
        return messages

    def json_logs(self, log_group: str) -> list[dict[str, Any]]:
        records = []
        for message in self.log_messages(log_group):
            try:
                record = json.loads(message)
            except ValueError:
                continue
            if isinstance(record, dict):
                records.append(record)
        return records

    def queue_counts(self, queue_url: str) -> tuple[int, int]:
        attributes = self.client("sqs").get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return (
            int(attributes["ApproximateNumberOfMessages"]),
            int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        )


# -- processes ---------------------------------------------------------------------------------


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def function_of(pid: int) -> str | None:
    """The Lambda function a worker process runs (AWS_LAMBDA_FUNCTION_NAME), else None."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return None
    for item in environ:
        if item.startswith(b"AWS_LAMBDA_FUNCTION_NAME="):
            return item.split(b"=", 1)[1].decode()
    return None


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
