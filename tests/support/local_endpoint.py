"""A local AWS endpoint (moto + the Lambda runtime) on a free port, for integration tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from ftb.localcloud.endpoint import AwsEndpoint
from ftb.localcloud.lambda_api import register_function_api
from ftb.localcloud.lambda_runtime import FunctionSpec, LambdaRuntime
from ftb.localcloud.logs_insights import LogsInsightsApi
from ftb.localcloud.stepfunctions_reads import StepFunctionsReads

REPO_ROOT = Path(__file__).resolve().parents[2]
HANDLERS_DIR = REPO_ROOT / "handlers"
ASL_FILE_NAME = "statemachine/task_workflow.asl.json"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"


@dataclass
class Echoed:
    """What the runtime echoed to the terminal, per function."""

    lines: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, function_name: str, line: str) -> None:
        with self.lock:
            self.lines.append((function_name, line))

    def of(self, function_name: str) -> list[str]:
        with self.lock:
            return [line for name, line in self.lines if name == function_name]


@dataclass
class LocalEndpoint:
    runtime: LambdaRuntime
    endpoint: AwsEndpoint
    echoed: Echoed

    @property
    def url(self) -> str:
        return self.endpoint.url

    def client(self, service: str, **config: Any) -> Any:
        return boto3.session.Session().client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(**config) if config else None,
        )

    def register(self, name: str, code_dir: Path, handler: str, **spec: Any) -> FunctionSpec:
        function = FunctionSpec(
            name=name,
            arn=function_arn(name),
            code_dir=code_dir,
            handler=handler,
            environment=spec.pop("environment", {}),
            **spec,
        )
        self.runtime.register(function)
        return function


@contextmanager
def local_endpoint(**runtime_options: Any) -> Iterator[LocalEndpoint]:
    echoed = Echoed()
    runtime = LambdaRuntime("http://127.0.0.1:0", REGION, echo=echoed, **runtime_options)
    endpoint = AwsEndpoint(runtime, port=0)
    register_function_api(endpoint, runtime)
    endpoint.register("logs", LogsInsightsApi())
    endpoint.register("states", StepFunctionsReads())
    endpoint.start()
    try:
        yield LocalEndpoint(runtime, endpoint, echoed)
    finally:
        runtime.shutdown()  # first: it ships the last log lines through the endpoint
        endpoint.stop()


def wait_for_execution(sfn: Any, execution_arn: str, timeout: float = 180.0) -> dict[str, Any]:
    """DescribeExecution once the execution has ended."""
    deadline = time.monotonic() + timeout
    while True:
        description: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        if description["status"] != "RUNNING":
            return description
        if time.monotonic() > deadline:
            raise AssertionError(f"{execution_arn} still RUNNING after {timeout} s")
        time.sleep(0.2)


def history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
    while True:
        page = sfn.get_execution_history(**kwargs)
        events.extend(page["events"])
        if not page.get("nextToken"):
            return events
        kwargs["nextToken"] = page["nextToken"]
