"""The fault injector itself (ftb/localcloud/faults: injector, worker_hooks): each fault does what
docs/reliability.md says, is counted, and touches nothing else. Small functions written for
the purpose run in the real local runtime behind a real local endpoint."""

from __future__ import annotations

import json
import re
import textwrap
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ftb.localcloud.faults import FaultConfig, FaultConfigError, Faults, TokenBucket
from ftb.localcloud.lambda_runtime import LambdaServiceError
from tests.support.local_endpoint import LocalEndpoint, local_endpoint

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(120)]

FUNCTIONS = textwrap.dedent(
    """
    import boto3

    def sender(event, context):
        boto3.client("sqs").send_message(QueueUrl=event["queueUrl"], MessageBody="done")
        return "sent"
    """
)


# -- configuration ------------------------------------------------------------------------------


def test_flags_and_a_toml_file_configure_the_same_faults(tmp_path: Path) -> None:
    # Given the same faults as flags and as a TOML file
    flags = FaultConfig()
    for flag in (
        "seed=7",
        "crash:start-execution:after-call.states.StartExecution=0.05",
        "crash:start-execution:after-handler=0.1",
        "function-error:monitor-dlq=0.3",
        "function-error:monitor-dlq:before=0.2",
        "start-execution-throttle=0.1",
        "start-execution-bucket-scale=0.01",
        "sqs-delay=2",
        "sqs-delay:dead-letter-queue=0.5",
        "visibility-timeout:task-queue=31",
        "esm-max-concurrency:task-queue=2",
    ):
        flags.apply_flag(flag)
    path = tmp_path / "faults.toml"
    path.write_text(
        textwrap.dedent(
            """
            seed = "7"
            start_execution_throttle = 0.1
            start_execution_bucket_scale = 0.01
            [[crash]]
            function = "start-execution"
            point = "after-call.states.StartExecution"
            probability = 0.05
            [[crash]]
            function = "start-execution"
            point = "after-handler"
            probability = 0.1
            [[function_error]]
            function = "monitor-dlq"
            probability = 0.3
            [[function_error]]
            function = "monitor-dlq"
            probability = 0.2
            when = "before"
            [sqs_delay]
            "*" = 2
            "dead-letter-queue" = 0.5
            [visibility_timeout]
            "task-queue" = 31
            [esm_max_concurrency]
            "task-queue" = 2
            """
        ),
        encoding="utf-8",
    )

    # When the file is loaded / Then both describe the same configuration
    from_file = FaultConfig.load(path)
    assert from_file == flags
    assert from_file.enabled
    assert not FaultConfig().enabled
    # ... and the what-if MaximumConcurrency applies to its mapping only
    faults = Faults(from_file, "us-east-1", tmp_path)
    assert faults.mapping_concurrency("S-task-queue", "S-start-execution", 5) == 2
    assert faults.mapping_concurrency("S-dead-letter-queue", "S-monitor-dlq", 2) == 2
    assert faults.mapping_concurrency("S-dead-letter-queue", "S-monitor-dlq", 3) == 3


@pytest.mark.parametrize(
    ("flag", "reason"),
    [
        ("crash:start-execution=0.1", "crash:FUNCTION:POINT=P"),
        ("crash:start-execution:during.states.StartExecution=0.1", "crash point"),
        ("crash:start-execution:after-handler=1.5", "probability"),
        ("function-error:monitor-dlq:sometimes=0.1", "before or after"),
        ("start-execution-bucket-scale=0", "within (0, 1]"),
        ("visibility-timeout=5", "visibility-timeout:QUEUE=SECONDS"),
        ("sqs-delay=-1", "negative"),
        ("esm-max-concurrency:task-queue=1", "whole number >= 2"),
        ("explode=1", "unknown fault"),
        ("crash", "NAME[:TARGET[:POINT]]=VALUE"),
    ],
)
def test_a_bad_fault_is_refused_with_the_reason(flag: str, reason: str) -> None:
    # Given a malformed flag / When it is applied / Then the error says what is wrong
    with pytest.raises(FaultConfigError, match=re.escape(reason)):
        FaultConfig().apply_flag(flag)


def test_the_bucket_is_aws_quota_scaled_by_region() -> None:
    # Given a scale of 0.01
    config = FaultConfig(start_execution_bucket_scale=0.01)
    # Then the large regions get 1,300 and 300/s scaled, the others 800 and 150/s
    assert config.bucket("us-east-1") == (13, 3.0)
    assert config.bucket("eu-west-1") == (13, 3.0)
    assert config.bucket("eu-west-3") == (8, 1.5)
    assert FaultConfig().bucket("us-east-1") is None


def test_the_token_bucket_allows_its_burst_then_its_refill_rate() -> None:
    # Given a bucket of 3 tokens refilled at 2/s, on a clock we move
    now = [0.0]
    bucket = TokenBucket(3, 2.0, clock=lambda: now[0])
    # When 4 calls arrive at once / Then 3 pass
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    # When half a second passes / Then one more token is there, and only one
    now[0] = 0.5
    assert [bucket.take(), bucket.take()] == [True, False]
    # When a long time passes / Then the bucket holds its burst, no more
    now[0] = 100.0
    assert sum(bucket.take() for _ in range(10)) == 3


def test_a_delivery_delay_is_bounded_and_counted(tmp_path: Path) -> None:
    # Given delays up to 0.5 s on the dead-letter queue only
    config = FaultConfig(sqs_delays={"dead-letter-queue": 0.5})
    faults = Faults(config, "us-east-1", tmp_path)
    # When batches are received / Then the DLQ's wait at most 0.5 s and the task queue's not
    delays = [faults.delivery_delay("S-dead-letter-queue", "DLQ", "S-monitor") for _ in range(20)]
    assert all(0 <= delay <= 0.5 for delay in delays)
    assert faults.delivery_delay("S-task-queue", "TaskQueue", "S-start") == 0
    assert faults.snapshot()["counters"] == {"sqsDelay.S-dead-letter-queue.batches": 20}


# -- in the runtime and the endpoint ------------------------------------------------------------


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEndpoint]:
    code_dir = tmp_path_factory.mktemp("fault-functions")
    (code_dir / "functions.py").write_text(FUNCTIONS, encoding="utf-8")
    with local_endpoint(ship_logs=False) as endpoint:
        for name in ("sender", "bystander"):
            endpoint.register(name, code_dir, "functions.sender", timeout_seconds=10)
        yield endpoint


@pytest.fixture
def queue(local: LocalEndpoint) -> str:
    sqs = local.client("sqs")
    url: str = sqs.create_queue(QueueName=f"faults-{id(sqs)}")["QueueUrl"]
    return url


def install(local: LocalEndpoint, tmp_path: Path, *flags: str) -> Faults:
    config = FaultConfig()
    for flag in flags:
        config.apply_flag(flag)
    faults = Faults(config, "us-east-1", tmp_path)
    local.runtime.faults = faults
    local.endpoint.faults = faults
    # New workers only get crash points: end the warm ones.
    for name in ("sender", "bystander"):
        local.runtime.register(local.runtime.get(name))
    return faults


@pytest.fixture(autouse=True)
def _no_faults_after(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "local" in request.fixturenames:
        local: LocalEndpoint = request.getfixturevalue("local")
        local.runtime.faults = None
        local.endpoint.faults = None


def messages(local: LocalEndpoint, queue_url: str) -> int:
    attributes = local.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def invoke(local: LocalEndpoint, name: str, queue_url: str) -> dict[str, Any]:
    payload = json.dumps({"queueUrl": queue_url}).encode()
    result = local.runtime.invoke(name, payload)
    return {"error": result.function_error, "payload": json.loads(result.payload)}


@pytest.mark.parametrize(
    ("point", "side_effect"),
    [
        ("before-call.sqs.SendMessage", False),
        ("after-call.sqs.SendMessage", True),
        ("after-handler", True),
    ],
)
def test_a_worker_ends_at_its_crash_point(
    local: LocalEndpoint, queue: str, tmp_path: Path, point: str, side_effect: bool
) -> None:
    # Given a crash point with probability 1 on one function
    faults = install(local, tmp_path, f"crash:sender:{point}=1")

    # When it is invoked
    outcome = invoke(local, "sender", queue)

    # Then its worker process ended there: Runtime.ExitError with the fault's exit status,
    # the side effect happened only past the point, and the end was counted
    assert outcome["error"] == "Unhandled"
    assert outcome["payload"]["errorType"] == "Runtime.ExitError"
    assert "exit status 86" in outcome["payload"]["errorMessage"]
    assert messages(local, queue) == (1 if side_effect else 0)
    assert faults.snapshot()["workerCrashes"] == {"sender": {point: 1}}
    # ... and another function is untouched
    assert invoke(local, "bystander", queue) == {"error": None, "payload": "sent"}


def test_a_crash_point_on_another_operation_does_not_fire(
    local: LocalEndpoint, queue: str, tmp_path: Path
) -> None:
    # Given crash points on StartExecution only
    faults = install(local, tmp_path, "crash:sender:before-call.states.StartExecution=1")
    # When the function calls SQS / Then it runs normally and nothing is counted
    assert invoke(local, "sender", queue) == {"error": None, "payload": "sent"}
    assert faults.snapshot()["workerCrashesTotal"] == 0


@pytest.mark.parametrize(("when", "side_effect"), [("before", False), ("after", True)])
def test_an_injected_function_error(
    local: LocalEndpoint, queue: str, tmp_path: Path, when: str, side_effect: bool
) -> None:
    # Given a function error with probability 1, before or after the function runs
    faults = install(local, tmp_path, f"function-error:sender:{when}=1")
    # When it is invoked / Then the caller sees a function error; the work was done only
    # when the error came after it
    outcome = invoke(local, "sender", queue)
    assert outcome["error"] == "Unhandled"
    assert outcome["payload"]["errorType"] == "FaultInjected.FunctionError"
    assert messages(local, queue) == (1 if side_effect else 0)
    assert faults.snapshot()["counters"] == {f"functionError.sender.{when}": 1}


def test_start_execution_is_throttled_like_step_functions(
    local: LocalEndpoint, tmp_path: Path
) -> None:
    # Given every StartExecution throttled
    faults = install(local, tmp_path, "start-execution-throttle=1")
    sfn = local.client("stepfunctions", retries={"total_max_attempts": 1})
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:none"

    # When a client starts an execution / Then botocore sees Step Functions' throttle
    with pytest.raises(ClientError) as raised:
        sfn.start_execution(stateMachineArn=machine, name="t1")
    assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # ... other Step Functions calls are untouched, and the throttle was counted
    assert "stateMachines" in sfn.list_state_machines()
    counters = faults.snapshot()["counters"]
    assert counters["startExecution.throttled.random"] == 1


def test_the_token_bucket_throttles_past_its_burst(local: LocalEndpoint, tmp_path: Path) -> None:
    # Given a bucket of one token (AWS x 0.0005), refilled every few seconds
    faults = install(local, tmp_path, "start-execution-bucket-scale=0.0005")
    sfn = local.client("stepfunctions", retries={"total_max_attempts": 1})
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:none"

    # When two starts arrive at once / Then the first reaches Step Functions (which knows no
    # such machine) and the second is throttled by the bucket
    codes = []
    for name in ("b1", "b2"):
        with pytest.raises(ClientError) as raised:
            sfn.start_execution(stateMachineArn=machine, name=name)
        codes.append(raised.value.response["Error"]["Code"])
    assert codes[0] != "ThrottlingException"
    assert codes[1] == "ThrottlingException"
    assert faults.snapshot()["counters"]["startExecution.throttled.bucket"] == 1


def test_the_counters_are_served_and_reset_over_http(local: LocalEndpoint, tmp_path: Path) -> None:
    # Given a throttle that fired once
    install(local, tmp_path, "start-execution-throttle=1")
    sfn = local.client("stepfunctions", retries={"total_max_attempts": 1})
    with pytest.raises(ClientError):
        sfn.start_execution(stateMachineArn="arn:aws:states:us-east-1:1:stateMachine:x", name="c")

    # When a test reads GET /_ftb/faults / Then it sees the counter
    with urllib.request.urlopen(f"{local.url}/_ftb/faults") as response:
        document = json.loads(response.read())
    assert document["counters"]["startExecution.throttled.random"] == 1
    assert document["faults"] == ["StartExecution ThrottlingException p=1"]

    # When it resets them / Then they start again from zero
    reset = urllib.request.Request(f"{local.url}/_ftb/faults/reset", data=b"", method="POST")
    urllib.request.urlopen(reset).close()
    with urllib.request.urlopen(f"{local.url}/_ftb/faults") as response:
        assert json.loads(response.read())["counters"] == {}


def test_invocations_that_fail_to_start_do_not_pile_up_in_flight(
    local: LocalEndpoint, tmp_path: Path
) -> None:
    # Given a function whose code directory is gone (its workers cannot start)
    faults = install(local, tmp_path, "sqs-delay=0.1")
    local.register("orphan", tmp_path / "gone", "functions.sender")

    # When a poller-like thread invokes it again and again (each a service error)
    for _ in range(5):
        with pytest.raises(LambdaServiceError):
            local.runtime.invoke("orphan", b"{}")

    # Then it counts as one invocation in flight at most, not five
    functions = faults.snapshot()["functions"]
    assert functions["orphan"]["invocations"] == 5
    assert functions["orphan"]["peakInFlight"] == 1
