"""Tracing as deployed: in the environment Lambda gives a function at init (active tracing),
every AWS call a handler's client makes is an X-Ray subsegment.

Each case runs in a fresh interpreter from handlers/ (the tests' own process has the tracer
off, and Powertools and the X-Ray SDK keep their configuration process-wide), with the same
environment as the cold-import benchmark, plus the trace header Lambda sets per invocation.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench.cold_imports import HANDLERS, SPECS, lambda_environment

TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/tasks"

# Imports the handler module as Lambda does, captures what the X-Ray SDK would send to the
# daemon, and makes one SQS call through the handlers' own client (answered by a Stubber).
_PROBE = """
import json
import {module}
from aws_xray_sdk.core import xray_recorder
from botocore.stub import Stubber
from lambda_support import aws
from lambda_support.observability import tracer

sent = []

class CapturingEmitter:
    def send_entity(self, entity):
        sent.append(json.loads(entity.serialize()))

    def set_daemon_address(self, address):
        pass

xray_recorder.emitter = CapturingEmitter()
client = aws.sqs()
with Stubber(client) as stub:
    stub.add_response("send_message", {{"MessageId": "m-1"}})
    client.send_message(QueueUrl="{queue_url}", MessageBody="{{}}")
print(json.dumps({{
    "tracer_disabled": tracer.disabled,
    "sampler": type(xray_recorder.sampler).__name__,
    "subsegments": [[e["name"], e.get("namespace"), e["trace_id"]] for e in sent],
}}))
"""


def _probe(module: str) -> dict[str, object]:
    env = lambda_environment(SPECS[module])
    env["_X_AMZN_TRACE_ID"] = TRACE_HEADER
    output = subprocess.run(
        [sys.executable, "-c", _PROBE.format(module=module, queue_url=QUEUE_URL)],
        cwd=HANDLERS,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.parametrize("module", ["submit_task", "get_task", "start_execution", "monitor_dlq"])
def test_every_aws_call_is_a_subsegment_of_the_invocation(module: str) -> None:
    # Given a function's handler module imported in Lambda's environment, tracing active
    # When its client makes an AWS call during an invocation
    result = _probe(module)
    # Then the tracer is on, sampling is Lambda's (no centralized-sampling poller), and the
    # call was sent as an `aws` subsegment of the invocation's trace
    assert result["tracer_disabled"] is False
    assert result["sampler"] == "LocalSampler"
    assert result["subsegments"] == [["sqs", "aws", "1-5759e988-bd862e3fe1be46a994272793"]]
