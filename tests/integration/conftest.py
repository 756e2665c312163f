"""The AWS side of the handlers, in process with moto: tasks table, queues, state machine.

Every test gets fresh resources (moto resets its backends each time a mock starts) and the
environment variables the stack would give the functions.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lambda_support import aws
from lambda_support.observability import logger
from lambda_support.settings import clear_caches

EVENTS = Path(__file__).resolve().parents[1] / "events"
ASL_FILE = Path(__file__).resolve().parents[2] / "statemachine" / "task_workflow.asl.json"
ACCOUNT = "123456789012"
REGION = "us-east-1"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/task-workflow-role"


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@dataclass
class FakeLambdaContext:
    """What Powertools reads from the Lambda context object."""

    function_name: str = "test-function"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:test-function"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/test-function"
    log_stream_name: str = "2026/11/24/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@dataclass
class Cloud:
    table_name: str
    queue_url: str
    queue_arn: str
    dlq_url: str
    state_machine_arn: str
    sqs: Any
    sfn: Any
    dynamodb: Any

    def item(self, task_id: str) -> dict[str, Any] | None:
        response = self.dynamodb.get_item(
            TableName=self.table_name, Key={"taskId": {"S": task_id}}, ConsistentRead=True
        )
        return response.get("Item")  # type: ignore[no-any-return]

    def queued_bodies(self) -> list[str]:
        """Bodies waiting in the task queue (received and made visible again at once)."""
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
        )
        return [message["Body"] for message in response.get("Messages", [])]

    def executions(self) -> list[dict[str, Any]]:
        response = self.sfn.list_executions(stateMachineArn=self.state_machine_arn)
        return response["executions"]  # type: ignore[no-any-return]


def _workflow_definition() -> str:
    # The real workflow; moto does not run it unless a test asks for the executing engine.
    return (
        ASL_FILE.read_text(encoding="utf-8")
        .replace("${ProcessTaskFunctionArn}", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:pt")
        .replace("${DeadLetterQueueUrl}", "https://sqs.us-east-1.amazonaws.com/123/dlq")
    )


def start_cloud(monkeypatch: pytest.MonkeyPatch, definition: str | None = None) -> Cloud:
    """Create the stack's resources in the active moto mock and point the settings at them."""
    session = boto3.session.Session(region_name=REGION)
    dynamodb = session.client("dynamodb")
    sqs = session.client("sqs")
    sfn = session.client("stepfunctions")
    dynamodb.create_table(
        TableName="tasks",
        KeySchema=[{"AttributeName": "taskId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "taskId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dlq_url = sqs.create_queue(QueueName="dead-letter-queue")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = sqs.create_queue(
        QueueName="task-queue",
        Attributes={
            "VisibilityTimeout": "60",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 10}),
        },
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    state_machine_arn = sfn.create_state_machine(
        name="task-workflow",
        definition=definition or _workflow_definition(),
        roleArn=ROLE_ARN,
        type="STANDARD",
    )["stateMachineArn"]
    for name, value in {
        "TASKS_TABLE_NAME": "tasks",
        "TASK_QUEUE_URL": queue_url,
        "STATE_MACHINE_ARN": state_machine_arn,
    }.items():
        monkeypatch.setenv(name, value)
    clear_caches()
    aws.reset()
    return Cloud(
        table_name="tasks",
        queue_url=queue_url,
        queue_arn=queue_arn,
        dlq_url=dlq_url,
        state_machine_arn=state_machine_arn,
        sqs=sqs,
        sfn=sfn,
        dynamodb=dynamodb,
    )


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch) -> Iterator[Cloud]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # moto intercepts AWS hosts only
    # Explicitly not executing: other tests may switch moto's engine on process-wide.
    with mock_aws(config={"stepfunctions": {"execute_state_machine": False}}):
        yield start_cloud(monkeypatch)
    aws.reset()


@pytest.fixture
def executing_cloud(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], Cloud]]:
    """A factory: the same resources, with moto's ASL engine running `definition`."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with contextlib.ExitStack() as stack:

        def create(definition: str) -> Cloud:
            stack.enter_context(mock_aws(config={"stepfunctions": {"execute_state_machine": True}}))
            return start_cloud(monkeypatch, definition)

        yield create
    aws.reset()


@pytest.fixture
def api_event() -> Callable[..., dict[str, Any]]:
    """API Gateway REST proxy events from tests/events, with the request's own parts."""

    def build(
        method: str = "POST",
        task_id: str | None = None,
        body: Any = ...,
        *,
        content_type: str | None = "application/json",
        base64: bool = False,
        path: str | None = None,
    ) -> dict[str, Any]:
        if method == "POST":
            event = load_event("api_post_tasks.json")
            if body is not ...:  # else keep the event file's body
                event["body"] = body if body is None or isinstance(body, str) else json.dumps(body)
            event["isBase64Encoded"] = base64
            for headers in (event["headers"], event["multiValueHeaders"]):
                headers.pop("Content-Type", None)
            if content_type is not None:
                event["headers"]["Content-Type"] = content_type
                event["multiValueHeaders"]["Content-Type"] = [content_type]
        else:
            event = load_event("api_get_task.json")
            event["httpMethod"] = method
            if task_id is not None:
                event["path"] = f"/tasks/{task_id}"
                event["pathParameters"] = {"taskId": task_id}
        if path is not None:
            event["path"] = path
        return event

    return build


@dataclass
class ApiResponse:
    status: int
    body: Any
    headers: dict[str, str]


@pytest.fixture
def call_api(lambda_context: FakeLambdaContext) -> Callable[..., ApiResponse]:
    """Invoke an API handler; every answer, errors included, must be a JSON document."""

    def call(handler: Callable[..., dict[str, Any]], event: dict[str, Any]) -> ApiResponse:
        raw = handler(event, lambda_context)
        headers = {k.lower(): v[0] for k, v in (raw.get("multiValueHeaders") or {}).items()}
        headers.update({k.lower(): v for k, v in (raw.get("headers") or {}).items()})
        assert headers.get("content-type") == "application/json", raw
        return ApiResponse(raw["statusCode"], json.loads(raw["body"]), headers)

    return call


@pytest.fixture
def sqs_event_of(cloud: Cloud) -> Callable[..., dict[str, Any]]:
    """An SQS event as Lambda's event source mapping builds it from received messages."""

    template = load_event("sqs_task_queue_batch.json")["Records"][0]

    def build(messages: list[dict[str, Any]], queue_arn: str | None = None) -> dict[str, Any]:
        records = []
        for message in messages:
            record = copy.deepcopy(template)
            record.update(
                messageId=message["MessageId"],
                receiptHandle=message["ReceiptHandle"],
                body=message["Body"],
                md5OfBody=message["MD5OfBody"],
                attributes=message["Attributes"],
                eventSourceARN=queue_arn or cloud.queue_arn,
            )
            records.append(record)
        return {"Records": records}

    return build


@pytest.fixture
def log_records() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The JSON log records Powertools Logger writes during the test."""
    buffer = io.StringIO()
    stream_handler = logger.registered_handler
    assert isinstance(stream_handler, logging.StreamHandler)
    previous = stream_handler.setStream(buffer)

    def records() -> list[dict[str, Any]]:
        return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]

    yield records
    stream_handler.setStream(previous)


@pytest.fixture
def events() -> Callable[[str], dict[str, Any]]:
    """Load an event from tests/events by file name (a fresh copy each time)."""
    return load_event
