"""The Lambda control plane's and the stack's logic without a cloud: the deterministic package,
policy statements as Lambda renders them, mapping updates and pause/resume states."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from werkzeug.datastructures import Headers
from werkzeug.test import EnvironBuilder

from ftb.localcloud.endpoint.calls import identify
from ftb.localcloud.event_sources import SqsPoller
from ftb.localcloud.lambda_api.code_package import build_package
from ftb.localcloud.lambda_api.control_api import lambda_timestamp
from ftb.localcloud.lambda_api.event_source_mappings import EventSourceMappingApi
from ftb.localcloud.lambda_api.function_resources import (
    function_resources,
    principal,
    statement,
)
from ftb.localcloud.lambda_runtime import FunctionSpec
from ftb.localcloud.provision import EventSourceMapping, Queue
from ftb.localcloud.template import Resolver, StackContext, Template

QUEUE = Queue("Q", "q", "http://x/123456789012/q", "arn:aws:sqs:us-east-1:123456789012:q")


def mapping(**changes: Any) -> EventSourceMapping:
    values: dict[str, Any] = {
        "logical_id": "M",
        "uuid": "6a1b0a6e-0000-4000-8000-000000000001",
        "queue": QUEUE,
        "function_name": "fn",
        "batch_size": 10,
        "batching_window_seconds": 0,
        "report_batch_item_failures": True,
        "maximum_concurrency": None,
        "enabled": True,
    }
    values.update(changes)
    return EventSourceMapping(**values)


# -- the package ---------------------------------------------------------------------------------


def test_the_same_code_builds_the_same_package_and_hash(tmp_path: Path) -> None:
    # Given two copies of a code directory, one with bytecode caches and other mtimes
    for name in ("a", "b"):
        (tmp_path / name / "pkg").mkdir(parents=True)
        (tmp_path / name / "handler.py").write_text("def handler(e, c):\n    return 1\n")
        (tmp_path / name / "pkg" / "__init__.py").write_text("")
    (tmp_path / "b" / "__pycache__").mkdir()
    (tmp_path / "b" / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"\0junk")
    (tmp_path / "b" / "handler.py").touch()
    # When each is packaged
    first, second = build_package(tmp_path / "a"), build_package(tmp_path / "b")
    # Then the bytes are identical, the hash is Lambda's base64 SHA-256, caches are left out
    assert first.data == second.data
    assert first.sha256 == base64.b64encode(hashlib.sha256(first.data).digest()).decode()
    assert first.size == len(first.data)
    names = zipfile.ZipFile(io.BytesIO(first.data)).namelist()
    assert names == ["handler.py", "pkg/__init__.py"]


def test_last_modified_has_lambdas_format() -> None:
    moment = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
    assert lambda_timestamp(moment) == "2024-05-01T12:00:00.123+0000"


# -- the policy ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "rendered"),
    [
        ("apigateway.amazonaws.com", {"Service": "apigateway.amazonaws.com"}),
        ("123456789012", {"AWS": "arn:aws:iam::123456789012:root"}),
        ("arn:aws:iam::123456789012:role/r", {"AWS": "arn:aws:iam::123456789012:role/r"}),
        ("*", "*"),
    ],
)
def test_principals_are_rendered_as_lambda_writes_them(given: str, rendered: Any) -> None:
    assert principal(given) == rendered


def test_a_permission_becomes_a_statement_with_its_conditions() -> None:
    # Given a permission with a source ARN and a source account
    props = {
        "Action": "lambda:InvokeFunction",
        "Principal": "s3.amazonaws.com",
        "SourceArn": "arn:aws:s3:::bucket",
        "SourceAccount": "123456789012",
    }
    # When it is rendered
    rendered = statement("sid-1", "arn:aws:lambda:us-east-1:123456789012:function:fn", props)
    # Then the conditions are ArnLike on AWS:SourceArn and StringEquals on AWS:SourceAccount
    assert rendered == {
        "Sid": "sid-1",
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:fn",
        "Condition": {
            "StringEquals": {"AWS:SourceAccount": "123456789012"},
            "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::bucket"},
        },
    }


# -- mapping updates -----------------------------------------------------------------------------


class FakePoller:
    def __init__(self) -> None:
        self.mapping = mapping()
        self.last_modified = 1.0
        self.updates: list[dict[str, Any]] = []

    @property
    def state(self) -> str:
        return "Enabled"

    def update(self, **changes: Any) -> None:
        self.updates.append(changes)


def put(api: EventSourceMappingApi, body: Any) -> tuple[int, dict[str, Any], str]:
    builder = EnvironBuilder(
        method="PUT",
        path=f"/2015-03-31/event-source-mappings/{mapping().uuid}",
        data=json.dumps(body),
        content_type="application/json",
        headers=Headers(
            {"Authorization": "AWS4-HMAC-SHA256 Credential=x/20240101/us-east-1/lambda/aws4"}
        ),
    )
    response = api.handle(identify(builder.get_environ()))
    assert response is not None
    return (
        response.status_code,
        json.loads(response.get_data()),
        response.headers.get("x-amzn-ErrorType", ""),
    )


def make_api(poller: FakePoller) -> EventSourceMappingApi:
    return EventSourceMappingApi(
        [poller], lambda name: f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        "us-east-1", "123456789012",
    )  # fmt: skip


def test_an_update_is_accepted_with_202_and_passed_to_the_pollers() -> None:
    poller = FakePoller()
    status, document, _ = put(make_api(poller), {"Enabled": False, "BatchSize": 5})
    assert status == 202
    assert document["UUID"] == mapping().uuid
    assert poller.updates == [
        {
            "enabled": False,
            "batch_size": 5,
            "batching_window_seconds": None,
            "report_batch_item_failures": None,
        }
    ]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"BatchSize": 0}, "ValidationException"),
        ({"BatchSize": 11}, "InvalidParameterValueException"),  # > 10 needs a window
        ({"MaximumBatchingWindowInSeconds": 301}, "ValidationException"),
        ({"Enabled": "no"}, "InvalidParameterValueException"),
        ({"FunctionResponseTypes": ["Other"]}, "ValidationException"),
        ({"FilterCriteria": {}}, "InvalidParameterValueException"),
        ({"FunctionName": "another"}, "InvalidParameterValueException"),
        ([1, 2], "InvalidRequestContentException"),
    ],
)
def test_an_invalid_update_is_refused_and_changes_nothing(body: Any, code: str) -> None:
    poller = FakePoller()
    status, _, error = put(make_api(poller), body)
    assert (status, error) == (400, code)
    assert poller.updates == []


# -- pause and resume ----------------------------------------------------------------------------


class QuietSqs:
    """An SQS client whose queue stays empty; counts the receives."""

    def __init__(self) -> None:
        self.receives = 0
        self.lock = threading.Lock()

    def receive_message(self, **_: Any) -> dict[str, Any]:
        with self.lock:
            self.receives += 1
        time.sleep(0.05)
        return {"Messages": []}


def wait_state(poller: SqsPoller, state: str) -> None:
    deadline = time.monotonic() + 5
    while poller.state != state:
        assert time.monotonic() < deadline, f"state stayed {poller.state}, wanted {state}"
        time.sleep(0.01)


def test_a_paused_poller_stops_receiving_and_resumes_with_new_settings() -> None:
    # Given a running poller group of two
    sqs = QuietSqs()
    poller = SqsPoller(mapping(), sqs, lambda *_: None, "us-east-1", concurrency=2)
    poller.start()
    try:
        wait_state(poller, "Enabled")
        # When it is paused, it parks: Disabled, and no receive happens any more
        poller.update(enabled=False)
        wait_state(poller, "Disabled")
        before = sqs.receives
        time.sleep(0.3)
        assert sqs.receives == before
        # When it is resumed with a new batch size, it polls again with it
        poller.update(enabled=True, batch_size=3)
        wait_state(poller, "Enabled")
        deadline = time.monotonic() + 5
        while sqs.receives == before:
            assert time.monotonic() < deadline, "the poller did not resume"
            time.sleep(0.01)
        assert poller.mapping.batch_size == 3
        assert poller.mapping.enabled
    finally:
        poller.stop()


def test_a_mapping_disabled_in_the_template_starts_paused() -> None:
    sqs = QuietSqs()
    poller = SqsPoller(mapping(enabled=False), sqs, lambda *_: None, "us-east-1", concurrency=1)
    poller.start()
    try:
        wait_state(poller, "Disabled")
        time.sleep(0.2)
        assert sqs.receives == 0
    finally:
        poller.stop()


def test_the_template_gives_each_function_its_tags_role_and_statements(tmp_path: Path) -> None:
    # Given a function with tags and a role, and permissions naming it by GetAtt and by name
    body = {
        "Resources": {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                    "Tags": [{"Key": "project", "Value": "p"}],
                },
            },
            "ByArn": {
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "FunctionName": {"Fn::GetAtt": ["Fn", "Arn"]},
                    "Principal": "apigateway.amazonaws.com",
                    "Action": "lambda:InvokeFunction",
                },
            },
            "ByName": {
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "FunctionName": {"Ref": "Fn"},
                    "Principal": "123456789012",
                    "Action": "lambda:InvokeFunction",
                },
            },
        }
    }
    template = Template(path=tmp_path / "S.template.json", body=body, stack_name="S")
    resolver = Resolver(template, StackContext(stack_name="S"), {})
    arn = "arn:aws:lambda:us-east-1:123456789012:function:S-fn"
    resolver.set_resource("Role", "S-Role", {"Arn": "arn:aws:iam::123456789012:role/S-Role"})
    resolver.set_resource("Fn", "S-fn", {"Arn": arn})
    resolver.set_resource("ByArn", "S-ByArn")
    resolver.set_resource("ByName", "S-ByName")
    spec = FunctionSpec(name="S-fn", arn=arn, code_dir=tmp_path, handler="h.h", environment={})
    # When the function's resources are read from the template
    found = function_resources(template, resolver, {"Fn": spec})
    # Then it has the template's tags plus CloudFormation's, the role's ARN, two statements
    assert found.tags["S-fn"]["project"] == "p"
    assert found.tags["S-fn"]["aws:cloudformation:logical-id"] == "Fn"
    assert found.roles["S-fn"] == "arn:aws:iam::123456789012:role/S-Role"
    statements = found.statements["S-fn"]
    assert [s["Sid"] for s in statements] == ["S-ByArn", "S-ByName"]
    assert statements[1]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert {s["Resource"] for s in statements} == {arn}
