"""The local Lambda runtime behind the local AWS endpoint: what a function sees and what its
callers see, compared with Lambda's own behaviour. Small functions written for the purpose;
each test names the Lambda behaviour it pins down."""

from __future__ import annotations

import json
import os
import re
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ftb.localcloud.lambda_runtime import (
    FunctionSpec,
    InvokeResult,
    LambdaRuntime,
    RuntimeStoppedError,
    TooManyRequestsError,
)
from tests.support.local_endpoint import (
    LocalEndpoint,
    function_arn,
    local_endpoint,
    wait_for_execution,
)

FUNCTIONS = textwrap.dedent(
    """
    import json, os, signal, sys, time
    import boto3

    INVOCATIONS = 0

    def counter(event, context):
        global INVOCATIONS
        INVOCATIONS += 1
        print(f"invocation {INVOCATIONS} of worker {os.getpid()}")
        return {"pid": os.getpid(), "invocations": INVOCATIONS}

    def sleeper(event, context):
        time.sleep(event.get("seconds", 0))
        return {"pid": os.getpid()}

    def crasher(event, context):
        how = event.get("how")
        if how == "exit":
            os._exit(3)
        if how == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if how == "segfault":
            import ctypes
            ctypes.string_at(0)
        return {"pid": os.getpid()}

    def failer(event, context):
        raise ValueError("bad input: " + event.get("why", ""))

    def inspector(event, context):
        return {
            "environ": dict(os.environ),
            "path0": sys.path[0],
            "cwd": os.getcwd(),
            "context": {
                "function_name": context.function_name,
                "function_version": context.function_version,
                "invoked_function_arn": context.invoked_function_arn,
                "memory_limit_in_mb": context.memory_limit_in_mb,
                "aws_request_id": context.aws_request_id,
                "log_group_name": context.log_group_name,
                "log_stream_name": context.log_stream_name,
                "remaining_ms": context.get_remaining_time_in_millis(),
            },
        }

    def environment(event, context):
        time.sleep(event.get("seconds", 0))
        return {"pid": os.getpid(), "environ": dict(os.environ)}

    def messenger(event, context):
        time.sleep(1.0)
        boto3.client("sqs").send_message(QueueUrl=event["queueUrl"], MessageBody=event["body"])
        return "sent"
    """
)
TEMPLATE_ENV = {"TABLE_NAME": "tasks", "AWS_REGION": "eu-west-3"}
# What the runtime adds to a function's template variables, as Lambda does (plus PATH etc.).
RUNTIME_ENV = {
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_EC2_METADATA_DISABLED",
    "AWS_XRAY_CONTEXT_MISSING",
    "LAMBDA_TASK_ROOT",
    "POWERTOOLS_TRACE_DISABLED",
    "_HANDLER",
    "PATH",
    "LANG",
    "TZ",
}
STREAM_NAME = re.compile(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")


@pytest.fixture(scope="module")
def code_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("function-code")
    (directory / "functions.py").write_text(FUNCTIONS, encoding="utf-8")
    (directory / "broken.py").write_text("import module_that_does_not_exist\n", encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
def local(code_dir: Path) -> Iterator[LocalEndpoint]:
    os.environ["FTB_TEST_PARENT_ONLY"] = "must not leak into functions"
    with local_endpoint() as endpoint:
        # Only sleeper's 1 s timeout is under test; the others get room for a loaded machine.
        endpoint.register("sleeper", code_dir, "functions.sleeper", timeout_seconds=1)
        for name in ("counter", "crasher", "failer"):
            endpoint.register(name, code_dir, f"functions.{name}", timeout_seconds=30)
        endpoint.register("messenger", code_dir, "functions.messenger", timeout_seconds=5)
        endpoint.register(
            "inspector", code_dir, "functions.inspector", environment=TEMPLATE_ENV, memory_mb=256
        )
        endpoint.register(
            "throttled", code_dir, "functions.sleeper", timeout_seconds=5, reserved_concurrency=1
        )
        endpoint.register("broken", code_dir, "broken.handler")
        yield endpoint
    os.environ.pop("FTB_TEST_PARENT_ONLY", None)


@pytest.fixture(scope="module")
def lambda_client(local: LocalEndpoint) -> Any:
    return local.client("lambda", retries={"mode": "standard", "max_attempts": 1})


def invoke(local: LocalEndpoint, name: str, event: dict[str, Any]) -> tuple[InvokeResult, Any]:
    result = local.runtime.invoke(name, json.dumps(event).encode())
    return result, json.loads(result.payload)


def quiet(function_name: str, line: str) -> None:
    """An echo that prints nothing."""


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Poll for asynchronous state; the deadline only bounds the wait (a loaded 2-core CI)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f} s waiting for {what}"
        time.sleep(0.02)


def started_invocations(local: LocalEndpoint, name: str) -> int:
    """Invocations the function's workers have begun (their START lines, echoed)."""
    return sum(line.startswith("START RequestId: ") for line in local.echoed.of(name))


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_warm_worker_is_reused(local: LocalEndpoint) -> None:
    # Given a function invoked once / When it is invoked again
    _, first = invoke(local, "counter", {})
    _, second = invoke(local, "counter", {})

    # Then the same process served both, keeping its module state (a warm start)
    assert second["pid"] == first["pid"]
    assert second["invocations"] == first["invocations"] + 1


def test_a_function_error_is_reported_like_lambda(lambda_client: Any) -> None:
    # Given a handler that raises / When it is invoked through the Invoke API
    response = lambda_client.invoke(FunctionName="failer", Payload=b'{"why": "no id"}')

    # Then 200 with X-Amz-Function-Error: Unhandled and Lambda's error document
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    document = json.loads(response["Payload"].read())
    assert document["errorType"] == "ValueError"
    assert document["errorMessage"] == "bad input: no id"
    assert any("functions.py" in frame for frame in document["stackTrace"])


def test_an_unknown_function_is_a_resource_not_found(lambda_client: Any) -> None:
    # When a function that is not registered is invoked / Then 404 ResourceNotFoundException
    with pytest.raises(ClientError) as raised:
        lambda_client.invoke(FunctionName=function_arn("no-such-function"), Payload=b"{}")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_a_timeout_is_reported_like_lambda_and_the_worker_replaced(local: LocalEndpoint) -> None:
    # Given a warm worker of a function with a 1 s timeout
    _, warm = invoke(local, "sleeper", {"seconds": 0})

    # When an invocation outlives the timeout
    started = time.monotonic()
    result, document = invoke(local, "sleeper", {"seconds": 30})

    # Then it ends at the timeout, reported as Lambda reports it, and the worker is gone
    assert time.monotonic() - started < 5
    assert result.function_error == "Unhandled"
    assert document["errorType"] == "Sandbox.Timedout"
    assert document["errorMessage"].endswith("Task timed out after 1.00 seconds")
    assert not is_running(warm["pid"])
    # ... and the next invocation gets a fresh worker
    _, fresh = invoke(local, "sleeper", {"seconds": 0})
    assert fresh["pid"] != warm["pid"]


@pytest.mark.parametrize(
    ("how", "description"),
    [
        ("exit", "exit status 3"),
        ("kill", "signal: killed"),
        ("segfault", "signal: segmentation fault"),
    ],
)
def test_a_crashed_worker_is_a_runtime_exit_error_and_is_replaced(
    local: LocalEndpoint, how: str, description: str
) -> None:
    # Given a warm worker / When the function kills its own process
    _, warm = invoke(local, "crasher", {})
    result, document = invoke(local, "crasher", {"how": how})

    # Then Lambda's Runtime.ExitError is reported
    assert result.function_error == "Unhandled"
    assert document["errorType"] == "Runtime.ExitError"
    assert document["errorMessage"].endswith(f"Runtime exited with error: {description}")
    # ... and the next invocation runs in a new worker
    _, fresh = invoke(local, "crasher", {})
    assert fresh["pid"] != warm["pid"]


def test_an_import_error_is_reported_as_lambda_reports_it(local: LocalEndpoint) -> None:
    # When a function whose module cannot be imported is invoked
    result, document = invoke(local, "broken", {})

    # Then Runtime.ImportModuleError, as Lambda's Python runtime words it
    assert result.function_error == "Unhandled"
    assert document["errorType"] == "Runtime.ImportModuleError"
    assert document["errorMessage"].startswith("Unable to import module 'broken'")


def test_an_event_invocation_answers_202_and_runs_in_the_background(
    local: LocalEndpoint, lambda_client: Any
) -> None:
    # Given a queue on the local endpoint
    sqs = local.client("sqs")
    queue_url = sqs.create_queue(QueueName="runtime-test-events")["QueueUrl"]

    # When a function that sends to it is invoked asynchronously
    started = time.monotonic()
    response = lambda_client.invoke(
        FunctionName="messenger",
        InvocationType="Event",
        Payload=json.dumps({"queueUrl": queue_url, "body": "hello"}).encode(),
    )

    # Then the caller gets 202 before the function is done; the function reaches the queue
    # through AWS_ENDPOINT_URL
    assert response["StatusCode"] == 202
    assert time.monotonic() - started < 1.0
    # (a cold start that imports boto3 can take seconds on a loaded machine: wait up to 60 s)
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + 60
    while not messages and time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=5).get("Messages", [])
    assert [message["Body"] for message in messages] == ["hello"]


def test_a_function_sees_its_template_environment_and_lambdas_only(
    local: LocalEndpoint, code_dir: Path
) -> None:
    # When a function reports what it sees
    _, seen = invoke(local, "inspector", {})

    # Then its environment is its template's plus Lambda's own variables, nothing inherited
    environ = seen["environ"]
    assert set(environ) == set(TEMPLATE_ENV) | RUNTIME_ENV
    assert environ["TABLE_NAME"] == "tasks"
    assert environ["AWS_REGION"] == "us-east-1"  # a reserved variable: the runtime's wins
    assert environ["AWS_ENDPOINT_URL"] == local.url
    assert environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert environ["POWERTOOLS_TRACE_DISABLED"] == "true"
    # ... its code directory is first on sys.path and the working directory, like /var/task
    assert seen["path0"] == str(code_dir.resolve())
    assert seen["cwd"] == str(code_dir.resolve())
    # ... and the context object has Lambda's attributes
    context = seen["context"]
    assert context["function_name"] == "inspector"
    assert context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"] == function_arn("inspector")
    assert context["memory_limit_in_mb"] == 256
    assert re.fullmatch(r"[0-9a-f-]{36}", context["aws_request_id"])
    assert context["log_group_name"] == "/aws/lambda/inspector"
    assert context["log_stream_name"] == environ["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert 0 < context["remaining_ms"] <= 3000


def test_reserved_concurrency_throttles_like_lambda(
    local: LocalEndpoint, lambda_client: Any
) -> None:
    # Given a function with reserved concurrency 1, busy with one invocation
    busy = threading.Thread(
        target=local.runtime.invoke, args=("throttled", b'{"seconds": 1.5}'), daemon=True
    )
    busy.start()
    # (in its worker, so holding the one slot for 1.5 s: a fixed sleep raced the thread start)
    wait_until(lambda: started_invocations(local, "throttled") == 1, "the busy invocation")

    # When a second synchronous invocation arrives / Then it is throttled with a 429
    with pytest.raises(ClientError) as raised:
        lambda_client.invoke(FunctionName="throttled", Payload=b"{}")
    assert raised.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    busy.join(timeout=60)


def test_logs_land_in_the_log_group_and_the_terminal(local: LocalEndpoint) -> None:
    # Given invocations of a function
    _, first = invoke(local, "counter", {})

    # When the runtime has shipped its logs
    assert local.runtime.flush_logs(timeout=60)
    logs = local.client("logs")

    # Then the worker's stream in /aws/lambda/<name> holds START, the function's output, END
    # and REPORT, in order, under a stream name like Lambda's
    events = logs.filter_log_events(logGroupName="/aws/lambda/counter")["events"]
    ours = [e for e in events if f"of worker {first['pid']}" in e["message"]]
    assert ours
    stream = ours[0]["logStreamName"]
    assert STREAM_NAME.match(stream)
    lines = [e["message"] for e in events if e["logStreamName"] == stream]
    start = next(i for i, line in enumerate(lines) if line.startswith("START RequestId: "))
    assert lines[start + 1].startswith("invocation ")
    assert lines[start + 2].startswith("END RequestId: ")
    assert lines[start + 3].startswith("REPORT RequestId: ")
    assert "Init Duration: " in lines[start + 3]  # the cold start
    # ... and the same lines were echoed to the terminal with the function's name
    assert ours[0]["message"] in local.echoed.of("counter")


def test_step_functions_sees_a_function_timeout_as_sandbox_timedout(local: LocalEndpoint) -> None:
    # Given a state machine invoking a function that outlives its timeout
    sfn = local.client("stepfunctions")
    definition = {
        "StartAt": "Sleep",
        "States": {
            "Sleep": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": function_arn("sleeper"), "Payload": {"seconds": 5}},
                "End": True,
            }
        },
    }
    machine = sfn.create_state_machine(
        name="runtime-test-timeout",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/runtime-test",
    )["stateMachineArn"]

    # When it runs
    execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    description = wait_for_execution(sfn, execution)

    # Then the error is Lambda's errorType, as Step Functions reports a Lambda timeout
    assert description["status"] == "FAILED"
    assert description["error"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in description["cause"]


class Throttle:
    """A fault: every invocation of one function is throttled before it runs."""

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name

    def before_invoke(self, spec: FunctionSpec, payload: bytes) -> InvokeResult | None:
        if spec.name == self.function_name:
            raise TooManyRequestsError("Rate Exceeded.")
        return None

    def after_invoke(
        self, spec: FunctionSpec, payload: bytes, result: InvokeResult
    ) -> InvokeResult:
        return result


def test_faults_hook_into_every_invocation(local: LocalEndpoint, lambda_client: Any) -> None:
    # Given a fault that throttles one function
    local.runtime.faults = Throttle("counter")
    try:
        # When it is invoked / Then the caller sees the injected throttle; others are untouched
        with pytest.raises(ClientError) as raised:
            lambda_client.invoke(FunctionName="counter", Payload=b"{}")
        assert raised.value.response["Error"]["Code"] == "TooManyRequestsException"
        assert lambda_client.invoke(FunctionName="sleeper", Payload=b"{}")["StatusCode"] == 200
    finally:
        local.runtime.faults = None


def test_update_function_configuration_replaces_the_environment_for_new_invocations(
    local: LocalEndpoint, lambda_client: Any, code_dir: Path
) -> None:
    # Given a function with two template variables, warm, and one invocation still running
    local.register(
        "configurable",
        code_dir,
        "functions.environment",
        environment={"FAILURE_RATE": "0.5", "KEEP_ME": "1"},
        timeout_seconds=5,
    )
    _, warm = invoke(local, "configurable", {})
    running: dict[str, Any] = {}
    slow = threading.Thread(
        target=lambda: running.update(invoke(local, "configurable", {"seconds": 1.0})[1])
    )
    slow.start()
    # (running in the warm worker before the update: a fixed sleep raced the thread start)
    wait_until(lambda: started_invocations(local, "configurable") >= 2, "the slow invocation")

    # When UpdateFunctionConfiguration gives it one variable (as `aws lambda
    # update-function-configuration --environment Variables={FAILURE_RATE=0}` does)
    answer = lambda_client.update_function_configuration(
        FunctionName="configurable", Environment={"Variables": {"FAILURE_RATE": "0"}}, Timeout=7
    )
    slow.join(timeout=60)

    # Then that map replaced the environment (Lambda's semantics: KEEP_ME is gone), and the
    # answer is the new configuration, without the variables the runtime adds itself
    assert answer["Environment"] == {"Variables": {"FAILURE_RATE": "0"}}
    assert answer["Timeout"] == 7
    configuration = lambda_client.get_function_configuration(FunctionName="configurable")
    assert configuration["Environment"] == answer["Environment"]
    assert configuration["RevisionId"] == answer["RevisionId"]
    # ... the invocation that was running finished with the old environment
    assert running["environ"]["FAILURE_RATE"] == "0.5"
    # ... and a new invocation runs in a new worker with the new one (plus Lambda's own)
    _, fresh = invoke(local, "configurable", {})
    assert fresh["pid"] not in {warm["pid"], running["pid"]}
    assert fresh["environ"]["FAILURE_RATE"] == "0"
    assert "KEEP_ME" not in fresh["environ"]
    assert fresh["environ"]["AWS_ENDPOINT_URL"] == local.url


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"Environment": {"Variables": {"AWS_REGION": "eu-west-1"}}}, 400, "InvalidParameterValue"),
        ({"Environment": {"Variables": {"1BAD": "x"}}}, 400, "ValidationException"),
        ({"Timeout": 901}, 400, "ValidationException"),
        ({"Handler": "functions.counter"}, 400, "InvalidParameterValue"),
        ({"RevisionId": "00000000-0000-0000-0000-000000000000"}, 412, "PreconditionFailed"),
    ],
)
def test_update_function_configuration_refuses_what_lambda_refuses(
    local: LocalEndpoint,
    lambda_client: Any,
    code_dir: Path,
    change: dict[str, Any],
    status: int,
    code: str,
) -> None:
    # Given a function
    local.register("refusing", code_dir, "functions.environment", environment={"KEPT": "1"})

    # When an update breaks one of Lambda's rules (a reserved variable, a name outside
    # [a-zA-Z][a-zA-Z0-9_]+, a timeout over 900 s, a stale RevisionId) or asks for what the
    # local runtime cannot change
    with pytest.raises(ClientError) as raised:
        lambda_client.update_function_configuration(FunctionName="refusing", **change)

    # Then it is refused with Lambda's error, and the function keeps its configuration
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert raised.value.response["Error"]["Code"].startswith(code)
    configuration = lambda_client.get_function_configuration(FunctionName="refusing")
    assert configuration["Environment"] == {"Variables": {"KEPT": "1"}}


def test_update_function_configuration_of_an_unknown_function_is_a_404(
    lambda_client: Any,
) -> None:
    # When a function that does not exist is updated / Then 404 ResourceNotFoundException
    with pytest.raises(ClientError) as raised:
        lambda_client.update_function_configuration(
            FunctionName="no-such-function", Environment={"Variables": {"FAILURE_RATE": "0"}}
        )
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_shutdown_leaves_no_worker_running(code_dir: Path) -> None:
    # Given a runtime with warm workers
    runtime = LambdaRuntime("http://127.0.0.1:9", ship_logs=False, echo=quiet)
    runtime.register(
        FunctionSpec("counter", function_arn("counter"), code_dir, "functions.counter", {})
    )
    pid = json.loads(runtime.invoke("counter", b"{}").payload)["pid"]
    assert is_running(pid)

    # When it shuts down
    runtime.shutdown()

    # Then its workers are gone and it accepts no more invocations
    assert not is_running(pid)
    with pytest.raises(RuntimeStoppedError):
        runtime.invoke("counter", b"{}")


def test_an_idle_worker_is_reclaimed(code_dir: Path) -> None:
    # Given a runtime that reclaims workers idle for 0.2 s, and a warm worker
    runtime = LambdaRuntime(
        "http://127.0.0.1:9", ship_logs=False, echo=quiet, idle_timeout_seconds=0.2
    )
    try:
        runtime.register(
            FunctionSpec("counter", function_arn("counter"), code_dir, "functions.counter", {})
        )
        pid = json.loads(runtime.invoke("counter", b"{}").payload)["pid"]

        # When it stays idle / Then its process ends, and the next invocation starts a new one
        deadline = time.monotonic() + 60  # bounds the wait only: the reaper polls every 0.05 s
        while is_running(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not is_running(pid)
        assert json.loads(runtime.invoke("counter", b"{}").payload)["pid"] != pid
    finally:
        runtime.shutdown()
