"""The endpoint's speed-ups change how fast it answers, never what it answers."""

from __future__ import annotations

import datetime
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ftb.localcloud.endpoint import AwsEndpoint
from ftb.localcloud.local import Clients
from ftb.localcloud.moto_internals import hot_paths as moto_hot_paths
from ftb.localcloud.moto_internals.wall import Function, Target, original
from ftb.localcloud.persistence.codec import Frozen, dumps


@pytest.fixture
def endpoint() -> Iterator[AwsEndpoint]:
    served = AwsEndpoint(None, port=0)
    served.start()
    try:
        yield served
    finally:
        served.stop()


def _requests_served_over_http(endpoint: AwsEndpoint) -> list[str]:
    """Wrap the server's application to record what reaches it through the socket."""
    seen: list[str] = []
    server = endpoint._server
    assert server is not None
    app = server.app

    def recording(environ: dict[str, Any], start_response: Any) -> Any:
        seen.append(environ.get("HTTP_X_AMZ_TARGET") or environ.get("PATH_INFO", ""))
        return app(environ, start_response)

    server.app = recording
    return seen


def test_in_process_client_gets_the_same_answers_as_over_http(endpoint: AwsEndpoint) -> None:
    # Given a client over HTTP and one answered in process, on the same endpoint
    over_http = Clients(endpoint.url, "us-east-1")
    in_process = Clients(endpoint.url, "us-east-1", endpoint.transport)
    seen = _requests_served_over_http(endpoint)
    # When the in-process client creates a queue, sends, receives and deletes
    url = in_process.sqs.create_queue(QueueName="speedups")["QueueUrl"]
    in_process.sqs.send_message(
        QueueUrl=url,
        MessageBody="héllo",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "test"}},
    )
    received = in_process.sqs.receive_message(
        QueueUrl=url, MessageAttributeNames=["All"], WaitTimeSeconds=1
    )["Messages"]
    # Then nothing went through the socket, and the answers are the service's
    assert seen == []
    assert [m["Body"] for m in received] == ["héllo"]
    assert received[0]["MessageAttributes"]["kind"]["StringValue"] == "test"
    # And the HTTP client sees the same queue and the message in flight
    attributes = over_http.sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "1"
    assert seen  # that one did use the socket


def test_in_process_errors_keep_the_service_error_shape(endpoint: AwsEndpoint) -> None:
    # Given an in-process client
    clients = Clients(endpoint.url, "us-east-1", endpoint.transport)
    # When it asks for a queue and a table that do not exist
    with pytest.raises(ClientError) as queue_error:
        clients.sqs.get_queue_url(QueueName="missing")
    with pytest.raises(ClientError) as table_error:
        clients.dynamodb.describe_table(TableName="missing")
    # Then the errors are the services' own
    assert queue_error.value.response["Error"]["Code"] in (
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
    )
    assert table_error.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert table_error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_concurrent_receivers_of_one_queue_never_fail(endpoint: AwsEndpoint) -> None:
    # Given one queue, five receivers and three senders in process (the pollers' pattern)
    clients = Clients(endpoint.url, "us-east-1", endpoint.transport)
    url = clients.sqs.create_queue(QueueName="busy")["QueueUrl"]
    failures: list[BaseException] = []
    received: list[int] = []
    stop_at = time.monotonic() + 3

    def receive() -> None:
        while time.monotonic() < stop_at:
            try:
                messages = clients.sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1
                ).get("Messages", [])
                received.append(len(messages))
                if messages:
                    clients.sqs.delete_message_batch(
                        QueueUrl=url,
                        Entries=[
                            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                            for i, m in enumerate(messages)
                        ],
                    )
            except BaseException as error:
                failures.append(error)

    def send() -> None:
        while time.monotonic() < stop_at:
            clients.sqs.send_message(QueueUrl=url, MessageBody="x")

    threads = [threading.Thread(target=receive) for _ in range(5)]
    threads += [threading.Thread(target=send) for _ in range(3)]
    # When they run together
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then no receive failed, and messages flowed
    assert failures == []
    assert sum(received) > 0


def test_moto_clock_helpers_agree_with_the_originals() -> None:
    # Given moto's helpers and the replacements
    from moto.core import utils

    moto_hot_paths.install_hot_paths()
    original_unix_time = original(utils, "unix_time")
    moment = datetime.datetime(2026, 11, 30, 12, 34, 56, 789012)
    # When both compute the same instants
    # Then they agree (to the microsecond a datetime holds)
    assert moto_hot_paths.unix_time(moment) == original_unix_time(moment)
    assert abs(moto_hot_paths.unix_time() - original_unix_time()) < 0.05
    assert abs(moto_hot_paths.unix_time_millis() - time.time() * 1000) < 50
    now = moto_hot_paths.utcnow()
    assert now.tzinfo is None
    assert abs((now - datetime.datetime.now(datetime.UTC).replace(tzinfo=None)).total_seconds()) < 1
    assert utils.unix_time is moto_hot_paths.unix_time


def test_method_names_are_the_class_functions() -> None:
    # Given a class
    class Responses:
        def send(self) -> None: ...

        def receive(self) -> None: ...

    # When its method names are asked for twice
    first = moto_hot_paths.method_names_from_class(Responses)
    second = moto_hot_paths.method_names_from_class(Responses)
    # Then both are the functions it defines (a fresh list each time: callers may change it)
    assert sorted(first) == ["receive", "send"]
    assert first == second and first is not second


def test_a_frozen_part_encodes_as_its_contents_once() -> None:
    # Given a capture with an ended execution frozen
    ended = Frozen({"name": "t-1", "status": "SUCCEEDED", "history": [{"id": 1}]})
    document = {"stateMachines": {"arn": {"executions": [ended, {"status": "RUNNING"}]}}}
    # When it is encoded twice
    first = dumps(document)
    second = dumps(document)
    # Then the JSON is the plain encoding, and the frozen part was encoded once
    assert json.loads(first) == json.loads(json.dumps(document))
    assert first == second
    assert ended.encoded is not None and json.loads(ended.encoded) == dict(ended)


def test_an_application_crash_is_a_500_as_over_http(endpoint: AwsEndpoint) -> None:
    # Given an in-process client whose call makes the application raise
    clients = Clients(endpoint.url, "us-east-1", endpoint.transport)
    assert endpoint.transport is not None
    crashing = endpoint.transport

    def broken(environ: dict[str, Any], start_response: Any) -> Any:
        raise RuntimeError("a bug in a handler")

    app, crashing.app = crashing.app, broken
    try:
        # When it calls
        with pytest.raises(ClientError) as error:
            clients.dynamodb.list_tables()
    finally:
        crashing.app = app
    # Then the client sees the 500 an HTTP server answers with, not the exception
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


def test_replacing_helpers_never_imports_a_deferred_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a moto module whose attributes load it on first use (as a deferred package does)
    import sys
    import types

    class Deferred(types.ModuleType):
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"the deferred package was loaded to read {name}")

    monkeypatch.setitem(sys.modules, "moto._deferred_for_test", Deferred("moto._deferred_for_test"))
    owner = types.ModuleType("moto._owner_for_test")

    def unix_time(dt: Any = None) -> float:
        return 0.0

    owner.unix_time = unix_time  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "moto._owner_for_test", owner)
    target = Target("moto._owner_for_test", "unix_time", Function(("dt",)), "test")
    # When a helper is replaced in every moto module
    moto_hot_paths._replace_everywhere(target, lambda dt=None: 1.0)
    # Then the deferred module was not asked for anything (its __getattr__ would have raised)
    assert "unix_time" not in vars(sys.modules["moto._deferred_for_test"])


def test_the_log_shipper_puts_events_in_process(endpoint: AwsEndpoint) -> None:
    # Given a log shipper given the endpoint's transport, as the runtime's is
    from ftb.localcloud.lambda_runtime.log_shipping import LogShipper

    assert endpoint.transport is not None
    seen = _requests_served_over_http(endpoint)
    shipper = LogShipper(lambda: endpoint.url, "us-east-1", endpoint.transport.attach)
    # When it ships a line
    shipper.put("/aws/lambda/speedups", "2026/11/30/[$LATEST]abc", "hello from a function")
    assert shipper.flush(timeout=10)
    # Then the line is in the log group, and nothing crossed the socket
    events = Clients(endpoint.url, "us-east-1", endpoint.transport).logs.get_log_events(
        logGroupName="/aws/lambda/speedups", logStreamName="2026/11/30/[$LATEST]abc"
    )["events"]
    shipper.close(timeout=5)
    assert [event["message"] for event in events] == ["hello from a function"]
    assert seen == []
