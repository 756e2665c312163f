"""The limit: the same work on the bare engine, in one process. The handlers are called in
process against in-process moto (mock_aws with its Step Functions engine executing the real
ASL); the workflow's lambda:invoke calls process-task's handler in process. No HTTP, no
worker processes, no event source poller threads beyond what the starter loop needs.

Run in a fresh interpreter (`python -m bench.bare_engine RATE N`): mock_aws patches botocore
process-wide, which must not touch the benchmark's own clients. Prints one JSON document.
"""

from __future__ import annotations

import copy
import io
import json
import os
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
HANDLERS = REPO_ROOT / "handlers"
EVENTS = REPO_ROOT / "tests" / "events"
ACCOUNT, REGION = "123456789012", "us-east-1"
PROCESS_TASK_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:bench-process-task"
STARTER_POLLERS = 2  # the event source mapping's concurrent batches, as locally
CLIENTS = 8


@dataclass
class Context:
    function_name: str = "bench"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = PROCESS_TASK_ARN
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/bench"
    log_stream_name: str = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


class InProcessLambda:
    """What moto's engine gets for boto_client_for("lambda"): Invoke runs the handler here,
    answering in Lambda's shape (FunctionError "Unhandled" and the error document)."""

    def __init__(self, handler: Any) -> None:
        self.handler = handler

    def invoke(self, **parameters: Any) -> dict[str, Any]:
        event = json.loads(parameters.get("Payload") or "{}")
        try:
            result = self.handler(event, Context())
            return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(result).encode())}
        except Exception as error:
            document = {"errorMessage": str(error), "errorType": type(error).__name__}
            return {
                "StatusCode": 200,
                "FunctionError": "Unhandled",
                "Payload": io.BytesIO(json.dumps(document).encode()),
            }


def _environment(failure_rate: float) -> None:
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "POWERTOOLS_SERVICE_NAME": "bench",
            "POWERTOOLS_METRICS_NAMESPACE": "bench",
            "POWERTOOLS_TRACE_DISABLED": "true",  # as the local runtime sets it
            "FAILURE_RATE": f"{failure_rate:g}",
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("FAILURE_SEED", None)
    sys.path.insert(0, str(HANDLERS))


def _queued(sqs: Any, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


@dataclass
class _Traffic:
    """The API's clients and the starter's pollers, as threads over the handlers."""

    sqs: Any
    queue_url: str
    queue_arn: str
    post_event: dict[str, Any]
    submit: Any  # submit_task.handler
    start: Any  # start_execution.handler
    record: Any  # sqs_event_record: the event the local cloud's mapping builds
    work: list[str]
    sent: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    submitted_all: threading.Event = field(default_factory=threading.Event)

    def run(self) -> float:
        """Submit everything, start everything; returns when the last task was submitted."""
        submitters = [threading.Thread(target=self.submitter, daemon=True) for _ in range(CLIENTS)]
        starters = [
            threading.Thread(target=self.starter, daemon=True) for _ in range(STARTER_POLLERS)
        ]
        for thread in submitters + starters:
            thread.start()
        for thread in submitters:
            thread.join()
        submitted = time.time()
        self.submitted_all.set()
        for thread in starters:
            thread.join()
        return submitted

    def submitter(self) -> None:
        while True:
            with self.lock:
                if not self.work:
                    return
                task_id = self.work.pop(0)
            event = copy.deepcopy(self.post_event)
            event["body"] = json.dumps({"taskId": task_id, "payload": {"bench": True}})
            at = time.time()
            answer = self.submit(event, Context())
            while answer["statusCode"] == 503:  # "retry later", as the API's clients do
                time.sleep(0.05)
                answer = self.submit(copy.deepcopy(event), Context())
            if answer["statusCode"] not in (200, 202):
                raise RuntimeError(f"{task_id}: {answer}")
            with self.lock:
                self.sent[task_id] = at

    def starter(self) -> None:
        # As the local cloud's poller: a failed batch is reported and the loop goes on (a
        # starter that died would leave its tasks queued and this run waiting for them).
        while True:
            try:
                if not self.start_batch():
                    return
            except Exception:
                traceback.print_exc()
                time.sleep(0.1)

    def start_batch(self) -> bool:
        """Start one batch; False when everything submitted has been started."""
        sqs, queue_url = self.sqs, self.queue_url
        while True:
            messages = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
            ).get("Messages", [])
            if not messages:
                # Done when nothing is left, invisible messages included: a record that
                # failed to start is hidden by the starter's backoff and comes back.
                if self.submitted_all.is_set() and not _queued(sqs, queue_url):
                    return False
                time.sleep(0.01)
                continue
            records = [self.record(message, self.queue_arn, REGION) for message in messages]
            answer = self.start({"Records": records}, Context())
            failed = {item["itemIdentifier"] for item in answer.get("batchItemFailures", [])}
            done = [m for m in messages if m["MessageId"] not in failed]
            if done:
                sqs.delete_message_batch(
                    QueueUrl=queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(done)
                    ],
                )
            return True


def _wait_for_executions(
    sfn: Any, sqs: Any, machine: str, queue_url: str, expected: set[str]
) -> list[dict[str, Any]]:
    """The executions of `expected`, once all have ended (RuntimeError after 30 minutes, or
    when some can no longer start)."""
    # Poll cheaply, as the local run does: listing every execution each time would take the
    # engine's own CPU in this one process.
    deadline = time.monotonic() + 1800
    while sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING", maxResults=1)[
        "executions"
    ]:
        if time.monotonic() > deadline:
            raise RuntimeError("executions still running after 30 minutes")
        time.sleep(0.5)
    while True:
        executions: list[dict[str, Any]] = []
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine):
            executions.extend(page["executions"])
        done = [e for e in executions if e["name"] in expected and e["status"] != "RUNNING"]
        if len(done) >= len(expected):
            return done
        running = any(e["status"] == "RUNNING" for e in executions)
        if not running and not _queued(sqs, queue_url):  # nothing left that could start them
            missing = sorted(expected - {e["name"] for e in done})
            raise RuntimeError(f"{len(missing)} tasks never started, e.g. {missing[:5]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(done)} of {len(expected)} tasks ended in 30 minutes")
        time.sleep(0.5)


def run(failure_rate: float, count: int) -> dict[str, Any]:
    _environment(failure_rate)
    import boto3
    from moto import mock_aws
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    from bench.end_to_end import summarize, task_ids
    from ftb.localcloud.event_sources.sqs import sqs_event_record
    from ftb.localcloud.moto_internals.install import install_patches

    mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
    mock.start()
    install_patches()  # the same engine and moto as the local cloud's
    session = boto3.session.Session(region_name=REGION)
    sqs: Any = session.client("sqs")
    sfn: Any = session.client("stepfunctions")
    dynamodb: Any = session.client("dynamodb")
    dynamodb.create_table(
        TableName="tasks",
        KeySchema=[{"AttributeName": "taskId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "taskId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dlq_url = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    queue_url = sqs.create_queue(QueueName="tasks", Attributes={"VisibilityTimeout": "181"})[
        "QueueUrl"
    ]
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:tasks"
    definition = (
        (REPO_ROOT / "statemachine" / "task_workflow.asl.json")
        .read_text()
        .replace("${ProcessTaskFunctionArn}", PROCESS_TASK_ARN)
        .replace("${DeadLetterQueueUrl}", dlq_url)
    )
    machine = sfn.create_state_machine(
        name="bench", definition=definition, roleArn=f"arn:aws:iam::{ACCOUNT}:role/r"
    )["stateMachineArn"]
    os.environ.update(
        {"TASKS_TABLE_NAME": "tasks", "TASK_QUEUE_URL": queue_url, "STATE_MACHINE_ARN": machine}
    )

    real_stdout = sys.stdout
    sys.stdout = open(os.devnull, "w")  # the functions' log lines: written, not kept  # noqa: SIM115
    import process_task
    import start_execution
    import submit_task

    original = lambda_eval_utils.boto_client_for
    in_process = InProcessLambda(process_task.handler)

    def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        if service == "lambda":
            return in_process
        return original(region=region, service=service, state_credentials=state_credentials)

    lambda_eval_utils.boto_client_for = client_for

    post_event = json.loads((EVENTS / "api_post_tasks.json").read_text())
    ids = task_ids(count, f"bare-{uuid.uuid4().hex[:6]}")
    traffic = _Traffic(
        sqs=sqs,
        queue_url=queue_url,
        queue_arn=queue_arn,
        post_event=post_event,
        submit=submit_task.handler,
        start=start_execution.handler,
        record=sqs_event_record,
        work=list(ids),
    )
    first_post = time.time()
    submitted = traffic.run()
    done = _wait_for_executions(sfn, sqs, machine, queue_url, set(ids))
    stops = {e["name"]: e["stopDate"].timestamp() for e in done}
    figures = summarize(first_post, submitted, traffic.sent, stops, done, 0.0, None)
    figures.pop("execution_arns")
    import resource

    figures["resources"] = {
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "cpu_seconds": round(sum(os.times()[:2]), 2),
        "peak_processes": 1,
    }
    figures["failure_rate"] = failure_rate
    sys.stdout.close()
    sys.stdout = real_stdout
    return figures


if __name__ == "__main__":
    print(json.dumps(run(float(sys.argv[1]), int(sys.argv[2]))))
