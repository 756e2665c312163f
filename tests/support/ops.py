"""What the operator-command tests share: results, the moto stack, the fake API."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import boto3

REGION = "us-east-1"
ACCOUNT = "123456789012"
STACK = "OpsTestStack"
ASL = Path(__file__).resolve().parents[2] / "statemachine" / "task_workflow.asl.json"
# The test cloud's reproducible transient failures: (seed, taskId, attempt) decides.
CLOUD_FAILURE_RATE = 0.5
CLOUD_FAILURE_SEED = "ops"


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


# --- a deployed stack, in moto ------------------------------------------------------------------


@dataclass
class DeployedStack:
    name: str
    outputs: dict[str, str]
    table_name: str
    state_machine_arn: str
    function_names: list[str]
    log_group: str

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]


def stack_template() -> dict[str, Any]:
    definition = (
        ASL.read_text(encoding="utf-8")
        .replace("${ProcessTaskFunctionArn}", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:pt")
        .replace("${DeadLetterQueueUrl}", "https://sqs.us-east-1.amazonaws.com/123/dlq")
    )
    role = {"Fn::GetAtt": ["Role", "Arn"]}
    functions = {
        f"{key.title().replace('-', '')}Function": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "FunctionName": f"{STACK}-{key}",
                "Runtime": "python3.12",
                "Handler": "index.handler",
                "Role": role,
                "Code": {"ZipFile": "def handler(event, context):\n    return event\n"},
                "Environment": {"Variables": environment},
            },
        }
        for key, environment in (
            ("submit-task", {"POWERTOOLS_SERVICE_NAME": "submit-task"}),
            ("process-task", {"POWERTOOLS_SERVICE_NAME": "process-task", "FAILURE_RATE": "0.3"}),
        )
    }
    return {
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "lambda.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    }
                },
            },
            **functions,
            "Table": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "TableName": f"{STACK}-tasks",
                    "BillingMode": "PAY_PER_REQUEST",
                    "KeySchema": [{"AttributeName": "taskId", "KeyType": "HASH"}],
                    "AttributeDefinitions": [{"AttributeName": "taskId", "AttributeType": "S"}],
                },
            },
            "TaskQueue": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "DeadLetterQueue": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "WorkflowLogs": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {"LogGroupName": f"/aws/vendedlogs/states/{STACK}-workflow"},
            },
            "Workflow": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "StateMachineName": f"{STACK}-workflow",
                    "DefinitionString": definition,
                    "RoleArn": role,
                },
            },
        },
        "Outputs": {
            "ApiUrl": {"Value": "https://abc123.execute-api.us-east-1.amazonaws.com/v1/"},
            "TasksEndpoint": {
                "Value": "https://abc123.execute-api.us-east-1.amazonaws.com/v1/tasks"
            },
            "StateMachineArn": {"Value": {"Ref": "Workflow"}},
            "StateMachineLogGroupName": {"Value": {"Ref": "WorkflowLogs"}},
            "TaskQueueUrl": {"Value": {"Ref": "TaskQueue"}},
            "DeadLetterQueueUrl": {"Value": {"Ref": "DeadLetterQueue"}},
            "TasksTableName": {"Value": {"Ref": "Table"}},
            # Like the real stack; submit-task's is left out (an older stack) on purpose.
            "ProcessTaskFunctionName": {"Value": {"Ref": "ProcessTaskFunction"}},
        },
    }


# --- a fake task API ---------------------------------------------------------------------------


@dataclass
class FakeApi:
    """Answers like the task API: 202 new, 200 same task again, 409 other payload, 400 bad id.

    `script` maps a taskId to a list of statuses to answer first (e.g. [503] then normal).
    """

    url: str
    state_file: Path
    tasks: dict[str, Any] = field(default_factory=dict)
    script: dict[str, list[int]] = field(default_factory=dict)
    requests: list[tuple[str, str, float]] = field(default_factory=list)  # method, path, time
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def fake_api_handler(api: FakeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: Any) -> None:
            # Out of flight before the first byte of the answer: once the client has read it,
            # its worker may send the next request, which must not find this one still counted.
            self._leave()
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _enter(self) -> None:
            with api.lock:
                api.requests.append((self.command, self.path, time.monotonic()))
                api.in_flight += 1
                api.max_in_flight = max(api.max_in_flight, api.in_flight)
            self._counted = True

        def _leave(self) -> None:
            # Idempotent: the answer leaves first; `finally` covers a request that failed.
            if getattr(self, "_counted", False):
                self._counted = False
                with api.lock:
                    api.in_flight -= 1

        def do_POST(self) -> None:
            self._enter()
            try:
                time.sleep(0.02)  # a little latency, so concurrency is observable
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = json.loads(raw)
                task_id = body.get("taskId")
                with api.lock:
                    scripted = api.script.get(str(task_id)) or []
                    forced = scripted.pop(0) if scripted else None
                if forced is not None:
                    self._answer(forced, {"message": "A backing service is unavailable"})
                    return
                if not isinstance(task_id, str) or not task_id or "!" in task_id:
                    self._answer(
                        400,
                        {
                            "message": "Invalid request",
                            "errors": [{"field": "taskId", "message": "must be 1-80 of ..."}],
                        },
                    )
                    return
                with api.lock:
                    existing = api.tasks.get(task_id)
                    if existing is None:
                        api.tasks[task_id] = body.get("payload")
                        status, answer = 202, {"taskId": task_id, "status": "QUEUED"}
                    elif existing == body.get("payload"):
                        status, answer = 200, {"taskId": task_id, "status": "QUEUED"}
                    else:
                        status = 409
                        answer = {
                            "message": "taskId is already used by a task with a different payload",
                            "taskId": task_id,
                        }
                self._answer(status, answer)
            finally:
                self._leave()

        def do_GET(self) -> None:
            self._enter()
            try:
                task_id = self.path.rsplit("/", 1)[-1]
                if task_id not in api.tasks:
                    self._answer(404, {"message": "Task not found", "taskId": task_id})
                elif task_id.endswith("3"):
                    self._answer(
                        200,
                        {
                            "taskId": task_id,
                            "status": "FAILED",
                            "error": "PermanentTaskError",
                            "message": "it ends in 3",
                        },
                    )
                else:
                    self._answer(200, {"taskId": task_id, "status": "SUCCEEDED", "result": {}})
            finally:
                self._leave()

    return Handler
