"""Snapshot and restore, service by service (ftb/localcloud/persistence), on moto in-process:
what one cloud saved, a fresh set of backends gets back as it was, read through the AWS APIs."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ftb.localcloud.persistence import codec, dynamodb, logs, shape, sqs, stepfunctions

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/workflow"
WAIT_THEN_FAIL = {
    "StartAt": "Wait",
    "States": {
        "Wait": {"Type": "Wait", "SecondsPath": "$.wait", "Next": "Choose"},
        "Choose": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.fail", "BooleanEquals": True, "Next": "Fail"}],
            "Default": "Done",
        },
        "Fail": {"Type": "Fail", "Error": "TaskFailed", "Cause": "asked to"},
        "Done": {"Type": "Pass", "Result": {"ok": True}, "End": True},
    },
}


@pytest.fixture
def cloud() -> Callable[[], Any]:
    """A fresh set of moto backends per `with cloud():` (Step Functions runs the ASL)."""

    def make() -> Any:
        return mock_aws(config={"stepfunctions": {"execute_state_machine": True}})

    return make


def client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]


def round_trip(document: Any) -> Any:
    """What a save and a load do to a capture: JSON on disk."""
    return codec.loads(codec.dumps(document))


def wait_until(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


# -- SQS ----------------------------------------------------------------------------------------


def make_queues() -> tuple[str, str]:
    sqs_client = client("sqs")
    dlq = sqs_client.create_queue(QueueName="dlq")["QueueUrl"]
    arn = sqs_client.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])
    policy = {"deadLetterTargetArn": arn["Attributes"]["QueueArn"], "maxReceiveCount": "2"}
    queue = sqs_client.create_queue(
        QueueName="work",
        Attributes={"VisibilityTimeout": "30", "RedrivePolicy": json.dumps(policy)},
    )["QueueUrl"]
    return queue, dlq


def test_queued_messages_keep_body_attributes_and_receive_counts(cloud: Any) -> None:
    # Given a queue with a fresh message, and one received once and then released
    with cloud():
        queue, _ = make_queues()
        sqs_client = client("sqs")
        sqs_client.send_message(
            QueueUrl=queue,
            MessageBody='{"taskId": "t-1"}',
            MessageAttributes={"kind": {"DataType": "String", "StringValue": "task"}},
        )
        sqs_client.send_message(QueueUrl=queue, MessageBody="second")
        received = sqs_client.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
        second = next(m for m in received["Messages"] if m["Body"] == "second")
        first = next(m for m in received["Messages"] if m["Body"] != "second")
        sqs_client.change_message_visibility(
            QueueUrl=queue, ReceiptHandle=second["ReceiptHandle"], VisibilityTimeout=0
        )
        sqs_client.change_message_visibility(
            QueueUrl=queue, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0
        )
        saved = round_trip(sqs.capture(REGION))

    # When a fresh cloud with the same queues restores it
    with cloud():
        queue, _ = make_queues()
        assert sqs.restore(saved, REGION) == 2
        messages = client("sqs").receive_message(
            QueueUrl=queue,
            MaxNumberOfMessages=10,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )["Messages"]

    # Then both are delivered with their bodies, attributes and receive counts carried on
    by_body = {m["Body"]: m for m in messages}
    assert set(by_body) == {'{"taskId": "t-1"}', "second"}
    task = by_body['{"taskId": "t-1"}']
    assert task["MessageAttributes"]["kind"]["StringValue"] == "task"
    assert task["Attributes"]["ApproximateReceiveCount"] == "2"
    assert by_body["second"]["Attributes"]["ApproximateReceiveCount"] == "2"


def test_a_message_in_flight_at_the_save_is_delivered_again_at_once(cloud: Any) -> None:
    # Given a message received (in flight, 30 s visibility timeout) when the state is saved,
    # and one delayed by 60 s
    with cloud():
        queue, _ = make_queues()
        sqs_client = client("sqs")
        sqs_client.send_message(QueueUrl=queue, MessageBody="held")
        assert sqs_client.receive_message(QueueUrl=queue)["Messages"]
        sqs_client.send_message(QueueUrl=queue, MessageBody="later", DelaySeconds=60)
        saved = round_trip(sqs.capture(REGION))

    # When it is restored
    with cloud():
        queue, _ = make_queues()
        sqs.restore(saved, REGION)
        got = client("sqs").receive_message(
            QueueUrl=queue, MaxNumberOfMessages=10, AttributeNames=["All"]
        )["Messages"]

    # Then the held one is delivered (no receipt handle of its consumer survives), counted as
    # a second receive; the delayed one still waits
    assert [(m["Body"], m["Attributes"]["ApproximateReceiveCount"]) for m in got] == [("held", "2")]


def test_the_redrive_policy_still_counts_restored_receives(cloud: Any) -> None:
    # Given a message already received twice (maxReceiveCount 2)
    with cloud():
        queue, _ = make_queues()
        sqs_client = client("sqs")
        sqs_client.send_message(QueueUrl=queue, MessageBody="poison")
        for _ in range(2):
            handle = sqs_client.receive_message(QueueUrl=queue)["Messages"][0]["ReceiptHandle"]
            sqs_client.change_message_visibility(
                QueueUrl=queue, ReceiptHandle=handle, VisibilityTimeout=0
            )
        saved = round_trip(sqs.capture(REGION))

    # When it is restored and received again
    with cloud():
        queue, dlq = make_queues()
        sqs.restore(saved, REGION)
        sqs_client = client("sqs")
        again = sqs_client.receive_message(QueueUrl=queue).get("Messages", [])
        dead = sqs_client.receive_message(QueueUrl=dlq).get("Messages", [])

    # Then SQS moves it to the dead-letter queue, as it would have without the restart
    assert again == []
    assert [m["Body"] for m in dead] == ["poison"]


# -- DynamoDB -----------------------------------------------------------------------------------


def make_table() -> None:
    client("dynamodb").create_table(
        TableName="tasks",
        KeySchema=[{"AttributeName": "taskId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "taskId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def test_table_items_come_back_with_every_attribute_type(cloud: Any) -> None:
    # Given items with strings, numbers, maps, lists, booleans, sets and binary
    item = {
        "taskId": {"S": "t-1"},
        "attempts": {"N": "3"},
        "payload": {"M": {"nested": {"L": [{"S": "a"}, {"N": "1.5"}]}}},
        "done": {"BOOL": True},
        "tags": {"SS": ["x", "y"]},
        "blob": {"B": b"\x00\x01"},
        "nothing": {"NULL": True},
    }
    with cloud():
        make_table()
        client("dynamodb").put_item(TableName="tasks", Item=item)
        client("dynamodb").put_item(TableName="tasks", Item={"taskId": {"S": "t-2"}})
        saved = round_trip(dynamodb.capture(REGION))

    # When a fresh table restores them
    with cloud():
        make_table()
        assert dynamodb.restore(saved, REGION) == 2
        got = client("dynamodb").get_item(TableName="tasks", Key={"taskId": {"S": "t-1"}})
        count = client("dynamodb").scan(TableName="tasks")["Count"]

    # Then they read back as they were written
    assert count == 2
    assert got["Item"]["payload"] == item["payload"]
    assert got["Item"]["attempts"] == {"N": "3"}
    assert got["Item"]["done"] == {"BOOL": True}
    assert sorted(got["Item"]["tags"]["SS"]) == ["x", "y"]
    assert got["Item"]["blob"] == {"B": b"\x00\x01"}


# -- CloudWatch Logs ----------------------------------------------------------------------------


def test_log_groups_streams_and_events_stay_readable(cloud: Any) -> None:
    # Given a function's log group (created on the fly, with retention) with events
    now = int(time.time() * 1000)
    with cloud():
        logs_client = client("logs")
        logs_client.create_log_group(logGroupName="/aws/lambda/fn")
        logs_client.put_retention_policy(logGroupName="/aws/lambda/fn", retentionInDays=7)
        logs_client.create_log_stream(logGroupName="/aws/lambda/fn", logStreamName="s1")
        logs_client.put_log_events(
            logGroupName="/aws/lambda/fn",
            logStreamName="s1",
            logEvents=[
                {"timestamp": now, "message": '{"taskId": "t-1", "message": "done"}'},
                {"timestamp": now + 1, "message": "plain line"},
            ],
        )
        saved = round_trip(logs.capture(REGION))

    # When a fresh cloud (which has not created that group) restores it
    with cloud():
        assert logs.restore(saved, REGION) == 2
        logs_client = client("logs")
        events = logs_client.filter_log_events(
            logGroupName="/aws/lambda/fn", filterPattern='"t-1"'
        )["events"]
        group = logs_client.describe_log_groups(logGroupNamePrefix="/aws/lambda/fn")

    # Then the events are found by filter, in their stream, with the group's retention
    assert [e["message"] for e in events] == ['{"taskId": "t-1", "message": "done"}']
    assert events[0]["logStreamName"] == "s1" and events[0]["timestamp"] == now
    assert group["logGroups"][0]["retentionInDays"] == 7


# -- Step Functions -----------------------------------------------------------------------------


def make_machine() -> str:
    return str(
        client("stepfunctions").create_state_machine(
            name="workflow", definition=json.dumps(WAIT_THEN_FAIL), roleArn=ROLE
        )["stateMachineArn"]
    )


def start(machine: str, name: str, wait: int, fail: bool) -> str:
    return str(
        client("stepfunctions").start_execution(
            stateMachineArn=machine, name=name, input=json.dumps({"wait": wait, "fail": fail})
        )["executionArn"]
    )


def status(arn: str) -> str:
    return str(client("stepfunctions").describe_execution(executionArn=arn)["status"])


@pytest.fixture
def saved_executions(cloud: Any) -> Iterator[tuple[dict[str, Any], dict[str, str]]]:
    """A capture with one SUCCEEDED, one FAILED and one RUNNING execution."""
    with cloud():
        machine = make_machine()
        arns = {
            "ok": start(machine, "ok", 0, False),
            "bad": start(machine, "bad", 0, True),
            "slow": start(machine, "slow", 2, False),
        }
        wait_until(lambda: status(arns["ok"]) != "RUNNING" and status(arns["bad"]) != "RUNNING")
        history = client("stepfunctions").get_execution_history(executionArn=arns["bad"])
        arns["bad-history-types"] = ",".join(e["type"] for e in history["events"])
        saved = round_trip(stepfunctions.capture(REGION))
        assert status(arns["slow"]) == "RUNNING"
    yield saved, arns


def test_ended_executions_keep_status_output_error_and_history(
    cloud: Any, saved_executions: tuple[dict[str, Any], dict[str, str]]
) -> None:
    saved, arns = saved_executions
    # Given a capture holding ended executions; When a fresh cloud restores it
    with cloud():
        make_machine()
        restored, rerun = stepfunctions.restore(saved, REGION)
        sfn = client("stepfunctions")
        ok = sfn.describe_execution(executionArn=arns["ok"])
        bad = sfn.describe_execution(executionArn=arns["bad"])
        history = sfn.get_execution_history(executionArn=arns["bad"])["events"]
        listed = sfn.list_executions(stateMachineArn=ok["stateMachineArn"])["executions"]

    # Then they read as they were: status, output, error and cause, the whole history
    assert (restored, rerun) == (2, 1)
    assert ok["status"] == "SUCCEEDED" and json.loads(ok["output"]) == {"ok": True}
    assert bad["status"] == "FAILED" and (bad["error"], bad["cause"]) == ("TaskFailed", "asked to")
    assert ",".join(e["type"] for e in history) == arns["bad-history-types"]
    assert history[-1]["type"] == "ExecutionFailed"
    assert {e["name"] for e in listed} == {"ok", "bad", "slow"}


def test_an_execution_running_at_the_save_runs_again_to_one_terminal_outcome(
    cloud: Any, saved_executions: tuple[dict[str, Any], dict[str, str]]
) -> None:
    saved, arns = saved_executions
    # Given a capture taken while "slow" was running; When a fresh cloud restores it
    with cloud():
        machine = make_machine()
        stepfunctions.restore(saved, REGION)
        wait_until(lambda: status(arns["slow"]) != "RUNNING")
        sfn = client("stepfunctions")
        slow = sfn.describe_execution(executionArn=arns["slow"])
        history = sfn.get_execution_history(executionArn=arns["slow"])["events"]
        same_name = sfn.list_executions(stateMachineArn=machine)["executions"]
        # A second start under the same name is refused as for any ended execution
        with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):
            start(machine, "slow", 0, False)

    # Then it ends once, under the same ARN, with one start and one end in its history
    assert slow["status"] == "SUCCEEDED"
    types = [e["type"] for e in history]
    assert types.count("ExecutionStarted") == 1 and types.count("ExecutionSucceeded") == 1
    assert sum(1 for e in same_name if e["name"] == "slow") == 1


# -- shape --------------------------------------------------------------------------------------


def test_a_snapshot_fits_a_grown_stack_but_not_one_that_lost_a_resource(cloud: Any) -> None:
    # Given the shape of a stack with two queues, a table and a state machine
    with cloud():
        make_queues()
        make_table()
        make_machine()
        saved = shape.current(REGION)
        same = shape.current(REGION)
        # When a queue is added: it still fits
        client("sqs").create_queue(QueueName="extra")
        grown = shape.current(REGION)
    # When the table changes its key and a queue disappears
    with cloud():
        client("sqs").create_queue(QueueName="work")
        client("dynamodb").create_table(
            TableName="tasks",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        make_machine()
        changed = shape.current(REGION)

    # Then only the shrunk one is refused, each reason named
    assert shape.fingerprint(saved) == shape.fingerprint(same)
    assert shape.mismatches(saved, grown) == []
    problems = shape.mismatches(saved, changed)
    assert "queue dlq is no longer in the template" in problems
    assert "table tasks changed its key (taskId:HASH -> id:HASH)" in problems
    assert len(problems) == 2


def test_checkpoints_reuse_what_cannot_change_and_still_see_everything_new(cloud: Any) -> None:
    # Given a first checkpoint of an ended execution and a stream with one event
    with cloud():
        machine = make_machine()
        first = start(machine, "first", 0, False)
        wait_until(lambda: status(first) != "RUNNING")
        logs_client = client("logs")
        logs_client.create_log_group(logGroupName="g")
        logs_client.create_log_stream(logGroupName="g", logStreamName="s")
        logs_client.put_log_events(
            logGroupName="g",
            logStreamName="s",
            logEvents=[{"timestamp": int(time.time() * 1000), "message": "one"}],
        )
        ended: dict[int, Any] = {}
        seen: dict[int, Any] = {}
        stepfunctions.capture(REGION, ended)
        logs.capture(REGION, seen)
        # When another execution ends and another event is logged, and a checkpoint follows
        second = start(machine, "second", 0, True)
        wait_until(lambda: status(second) != "RUNNING")
        logs_client.put_log_events(
            logGroupName="g",
            logStreamName="s",
            logEvents=[{"timestamp": int(time.time() * 1000), "message": "two"}],
        )
        executions_saved = stepfunctions.capture(REGION, ended)
        logs_saved = logs.capture(REGION, seen)

    # Then it holds both executions and both events, as a capture without reuse would
    saved = executions_saved["stateMachines"][machine]["executions"]
    assert {(e["name"], e["status"]) for e in saved} == {
        ("first", "SUCCEEDED"),
        ("second", "FAILED"),
    }
    assert [e[2] for e in logs_saved["groups"]["g"]["streams"]["s"]] == ["one", "two"]


def test_a_checkpoint_after_a_restore_holds_what_was_restored(
    cloud: Any, saved_executions: tuple[dict[str, Any], dict[str, str]]
) -> None:
    saved, _ = saved_executions
    # Given a restore that told the checkpoint caches what it put back
    with cloud():
        make_machine()
        ended: dict[int, Any] = {}
        stepfunctions.restore(saved, REGION, ended)
        # When the next checkpoint captures with those caches, and one without them
        with_cache = stepfunctions.capture(REGION, ended)
        without = stepfunctions.capture(REGION)

    # Then both hold the same ended executions
    def ended_of(document: dict[str, Any]) -> list[Any]:
        return sorted(
            (e["name"], e["status"], len(e.get("history", [])))
            for m in document["stateMachines"].values()
            for e in m["executions"]
            if e["status"] != "RUNNING"
        )

    assert ended_of(with_cache) == ended_of(without)
    assert len(ended_of(with_cache)) >= 2
