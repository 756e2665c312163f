"""Fixtures of the operator-command tests.

- `ftb`: runs `ftb ...` in process (the real console entry point), returns exit code and output.
- `deployed_stack`: a "deployed" stack in moto (mock_aws, in process) created through
  CloudFormation with the outputs the real stack has, so that `--stack` resolves from them.
- `fake_api`: a tiny HTTP server answering POST /tasks and GET /tasks/{id} like the API, plus
  a local-cloud state file pointing at it (what `ftb local` writes), for the HTTP paths.
- `ops_cloud` / `on_ops_cloud`: the local cloud (tests/e2e's LocalCloudProcess, own instance).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ftb import cli
from tests.support.local_cloud import LocalCloudProcess, starts_a_local_cloud
from tests.support.ops import (
    CLOUD_FAILURE_RATE,
    CLOUD_FAILURE_SEED,
    REGION,
    STACK,
    DeployedStack,
    FakeApi,
    Run,
    fake_api_handler,
    stack_template,
)

_RUNNING: list[LocalCloudProcess] = []


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Stop the ops cloud once the last test of this directory has run, not at session end:
    the (timing-sensitive) suites after this one get the machine to themselves."""
    here = Path(__file__).parent
    if _RUNNING and (nextitem is None or here not in Path(nextitem.path).parents):
        for cloud in _RUNNING:
            cloud.stop()
        _RUNNING.clear()


@pytest.fixture
def ftb(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Run]:
    # Wide, plain output: table cells are not cut and no colour codes land in assertions.
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "dumb")

    def run(*argv: str) -> Run:
        capsys.readouterr()
        code = cli.main(list(argv))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture
def deployed_stack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[DeployedStack]:
    # No local cloud may be picked up by accident.
    monkeypatch.setenv("FTB_STATE_FILE", str(tmp_path / "no-local-cloud.json"))
    # Moto's classic Step Functions backend (the one CloudFormation provisions into): another
    # suite may have switched the process-wide default to the executing engine.
    with mock_aws(config={"stepfunctions": {"execute_state_machine": False}}):
        cloudformation = boto3.client("cloudformation", region_name=REGION)
        cloudformation.create_stack(StackName=STACK, TemplateBody=json.dumps(stack_template()))
        described = cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]
        outputs = {item["OutputKey"]: item["OutputValue"] for item in described["Outputs"]}
        yield DeployedStack(
            name=STACK,
            outputs=outputs,
            table_name=outputs["TasksTableName"],
            state_machine_arn=outputs["StateMachineArn"],
            function_names=[f"{STACK}-submit-task", f"{STACK}-process-task"],
            log_group=outputs["StateMachineLogGroupName"],
        )


@pytest.fixture
def fake_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApi]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    state_file = tmp_path / "local.json"
    api = FakeApi(url=url, state_file=state_file)
    server.RequestHandlerClass = fake_api_handler(api)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    state_file.write_text(
        json.dumps(
            {
                "pid": os.getpid(),
                "stackName": "FaultTolerantBackend",
                "region": REGION,
                "endpointUrl": url,  # "AWS endpoint": only its port being open matters here
                "outputs": {"TasksEndpoint": f"{url}/tasks", "ApiUrl": f"{url}/"},
            }
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("FTB_STATE_FILE", str(state_file))
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
@starts_a_local_cloud
def ops_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The real app on free ports, its process-task failing half the time (seeded).

    It reuses tests/e2e's LocalCloudProcess; it is its own instance because these tests
    change process-task's environment while it runs (`ftb set-env`, as the README does).
    It runs the open API (`-c apiAuth=none`): the commands work unchanged in that mode too
    (tests/e2e runs them against the default, iam, and apiKey).
    """

    cloud = LocalCloudProcess(
        "ops",
        [
            "--quiet",
            "-c",
            "apiAuth=none",
            "--set-env",
            f"process-task:FAILURE_RATE={CLOUD_FAILURE_RATE}",
            "--set-env",
            f"process-task:FAILURE_SEED={CLOUD_FAILURE_SEED}",
        ],
        tmp_path_factory.mktemp("ops-cloud"),
    )
    cloud.start()
    _RUNNING.append(cloud)
    try:
        yield cloud.wait_ready()
    finally:
        cloud.stop()


@pytest.fixture
def on_ops_cloud(ops_cloud: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Point `ftb` at the test cloud (as `make run`'s state file would)."""
    monkeypatch.setenv("FTB_STATE_FILE", str(ops_cloud.state_file))
    monkeypatch.delenv("FTB_STACK", raising=False)
    return ops_cloud
