"""The saved state of a running cloud as a whole (ftb/localcloud/persistence): configuration
changes and fault counters carried over, an incompatible snapshot refused before anything is
loaded, nothing saved by a cloud that did not restore, a snapshot gate that makes calls wait,
and the API's intake refusing as API Gateway does once closed."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ftb.localcloud.apigateway.intake import IntakeGate
from ftb.localcloud.faults import FaultConfig, Faults
from ftb.localcloud.lambda_runtime import FunctionSpec, LambdaRuntime
from ftb.localcloud.persistence import IncompatibleSnapshot, SnapshotError, StateKeeper, functions
from ftb.localcloud.persistence import faults as fault_counters
from ftb.localcloud.persistence.quiesce import SnapshotGate

REGION = "us-east-1"


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[LambdaRuntime]:
    runtime = LambdaRuntime("http://127.0.0.1:9", REGION, ship_logs=False)
    for name, environment in (("work", {"FAILURE_RATE": "0.3", "MODE": "a"}), ("other", {})):
        runtime.register(
            FunctionSpec(
                name=name,
                arn=f"arn:aws:lambda:{REGION}:123456789012:function:{name}",
                code_dir=tmp_path,
                handler="app.handler",
                environment=environment,
                timeout_seconds=3,
            )
        )
    yield runtime
    runtime.shutdown()


def test_configuration_changes_are_kept_on_top_of_a_changed_template(
    runtime: LambdaRuntime,
) -> None:
    # Given a function changed after the start (as `ftb set-env` does): a variable set, one
    # removed, a new timeout
    base = functions.baseline(runtime)
    spec = runtime.get("work")
    runtime.register(
        dataclasses.replace(
            spec, environment={"FAILURE_RATE": "0", "EXTRA": "1"}, timeout_seconds=9
        )
    )
    saved = functions.capture(runtime, base)
    # When the next start's template gives the function a new variable of its own
    runtime.register(dataclasses.replace(spec, environment={**spec.environment, "NEW": "x"}))
    applied = functions.restore(saved, runtime)
    # Then the changes apply on top of it, and only the changed function is touched
    assert applied == ["work"]
    work = runtime.get("work")
    assert work.environment == {"FAILURE_RATE": "0", "EXTRA": "1", "NEW": "x"}
    assert work.timeout_seconds == 9
    assert functions.describe(saved) == ["work: EXTRA=1, FAILURE_RATE=0, -MODE, timeout 9 s"]


def test_fault_counters_carry_on_across_a_restart(tmp_path: Path) -> None:
    # Given a fault injector that counted delays and a worker crash
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    config = FaultConfig(sqs_delays={"dlq": 0.01})
    before = Faults(config, REGION, tmp_path / "one")
    for _ in range(3):
        before.delivery_delay("S-dlq", "Dlq", "S-monitor")
    before.events_path.write_text(json.dumps({"function": "f", "point": "p"}) + "\n")
    saved = json.loads(json.dumps(fault_counters.capture(before)))
    # When a new injector restores them and counts one more
    after = Faults(config, REGION, tmp_path / "two")
    assert fault_counters.restore(saved, after)
    after.delivery_delay("S-dlq", "Dlq", "S-monitor")
    # Then the figures cover both runs
    snapshot = after.snapshot()
    assert snapshot["counters"] == {"sqsDelay.S-dlq.batches": 4}
    assert snapshot["workerCrashesTotal"] == 1


def make_stack(queues: list[str]) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    for name in queues:
        sqs.create_queue(QueueName=name)
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName="tasks",
        KeySchema=[{"AttributeName": "taskId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "taskId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def test_an_incompatible_snapshot_is_refused_and_nothing_is_loaded_or_overwritten(
    tmp_path: Path, runtime: LambdaRuntime
) -> None:
    sfn_config: Any = {"stepfunctions": {"execute_state_machine": True}}
    # Given a state saved by a stack with queues "work" and "dlq" and a table item
    with mock_aws(config=sfn_config):
        make_stack(["work", "dlq"])
        boto3.client("sqs", region_name=REGION).send_message(
            QueueUrl=boto3.client("sqs", region_name=REGION).get_queue_url(QueueName="work")[
                "QueueUrl"
            ],
            MessageBody="queued",
        )
        boto3.client("dynamodb", region_name=REGION).put_item(
            TableName="tasks", Item={"taskId": {"S": "t-1"}}
        )
        keeper = StateKeeper(tmp_path / "saved", REGION, say=print, checkpoint_seconds=0)
        keeper.load(fresh=False)
        keeper.restore(runtime, None)
        assert keeper.save() is not None
        saved_bytes = keeper.store.path.read_bytes()
    # When a stack without "dlq" starts on it
    with mock_aws(config=sfn_config):
        make_stack(["work"])
        keeper = StateKeeper(tmp_path / "saved", REGION, say=print, checkpoint_seconds=0)
        keeper.load(fresh=False)
        with pytest.raises(IncompatibleSnapshot) as refused:
            keeper.restore(runtime, None)
        items = boto3.client("dynamodb", region_name=REGION).scan(TableName="tasks")["Count"]
        work = boto3.client("sqs", region_name=REGION).get_queue_url(QueueName="work")
        queued = boto3.client("sqs", region_name=REGION).get_queue_attributes(
            QueueUrl=work["QueueUrl"], AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]["ApproximateNumberOfMessages"]
        # and a stop after the refusal does not save over it
        assert keeper.save() is None

    # Then the message names the cause and the way out, nothing was loaded, the file is intact
    message = str(refused.value)
    assert "incompatible template" in message
    assert "queue dlq is no longer in the template" in message
    assert "--fresh" in message
    assert (items, queued) == (0, "0")
    assert keeper.store.path.read_bytes() == saved_bytes


def test_the_snapshot_gate_waits_for_calls_under_way_and_holds_new_ones() -> None:
    # Given a call under way
    gate = SnapshotGate()
    order: list[str] = []
    call_started = threading.Event()

    def call(name: str, hold: float) -> None:
        with gate.shared():
            call_started.set()
            time.sleep(hold)
            order.append(name)

    first = threading.Thread(target=call, args=("call under way", 0.3))
    first.start()
    call_started.wait()
    # When a snapshot starts, and another call arrives meanwhile
    later = threading.Thread(target=call, args=("call after the snapshot", 0))

    def snapshot() -> None:
        with gate.exclusive():
            later.start()
            time.sleep(0.2)
            order.append("snapshot")

    snapshot_thread = threading.Thread(target=snapshot)
    snapshot_thread.start()
    for thread in (first, snapshot_thread):
        thread.join(5)
    later.join(5)
    # Then the snapshot saw the first call's effects and none of the later one's
    assert order == ["call under way", "snapshot", "call after the snapshot"]
    assert not SnapshotGate.applies("sqs", "ReceiveMessage")
    assert SnapshotGate.applies("sqs", "SendMessage")


def test_a_snapshot_gives_up_rather_than_wait_forever() -> None:
    gate = SnapshotGate()
    with gate.shared(), pytest.raises(TimeoutError), gate.exclusive(timeout=0.1):
        pass


class _Gateway:
    def __init__(self) -> None:
        self.release = threading.Event()
        self.closed = False

    def handle(self, request: Any, host: str) -> Any:
        self.release.wait(5)
        return "answered"

    def close(self) -> None:
        self.closed = True


def test_closed_intake_answers_503_like_api_gateway_and_lets_requests_finish() -> None:
    # Given a request under way
    gateway = _Gateway()
    intake = IntakeGate(gateway)
    answers: list[Any] = []
    under_way = threading.Thread(target=lambda: answers.append(intake.handle(None, "h")))
    under_way.start()
    time.sleep(0.1)
    # When intake closes
    intake.close_intake()
    refused = intake.handle(None, "h")
    # Then a new request gets API Gateway's 503, and the one under way finishes
    assert refused.status == 503
    assert json.loads(refused.body) == {"message": "Service Unavailable"}
    assert ("x-amzn-ErrorType", "ServiceUnavailableException") in refused.headers
    assert intake.wait_idle(0.1) == 1
    gateway.release.set()
    assert intake.wait_idle(5) == 0
    under_way.join(5)
    assert answers == ["answered"]


def test_a_snapshot_with_malformed_content_is_refused_with_one_message(
    tmp_path: Path, runtime: LambdaRuntime
) -> None:
    sfn_config: Any = {"stepfunctions": {"execute_state_machine": True}}
    # Given a saved state whose queued message lost its fields (edited by hand, say)
    with mock_aws(config=sfn_config):
        make_stack(["work"])
        keeper = StateKeeper(tmp_path / "saved", REGION, say=print, checkpoint_seconds=0)
        keeper.load(fresh=False)
        keeper.restore(runtime, None)
        keeper.save()
    document = json.loads(keeper.store.path.read_bytes())
    document["services"]["sqs"]["queues"]["work"]["messages"] = [{"body": "no other field"}]
    keeper.store.path.write_text(json.dumps(document))
    # When a cloud starts on it
    with mock_aws(config=sfn_config):
        make_stack(["work"])
        keeper = StateKeeper(tmp_path / "saved", REGION, say=print, checkpoint_seconds=0)
        keeper.load(fresh=False)
        # Then it is refused with what to do, and nothing will save over it
        with pytest.raises(SnapshotError, match=r"does not hold what this `ftb local` expects"):
            keeper.restore(runtime, None)
        assert keeper.save() is None
