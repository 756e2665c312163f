"""Save and restore times of the local cloud's state (ftb/localcloud/persistence) at N tasks.

`python -m bench.persistence [--tasks N]` prints the figures; `measure(tasks=2000)` returns
them. The state is built in-process on moto, shaped like what `ftb local` holds after N tasks
(measured on a real run: about 13 log events and 10 KB of snapshot per task): a table item
per task, one execution per task run by moto's ASL engine (30 % failing through a
dead-letter step, as with the default failure rate), their log lines in the functions' log
groups, a dead-letter message per failed task and a few messages still queued. Running 2,000
tasks through a real local cloud takes over ten minutes on this machine (about 3 tasks/s);
the snapshot code reads and writes the same moto backends either way.

Figures: `save_seconds` (the first save of a cloud: everything captured, then the atomic
write; what Ctrl-C costs after the drain), `save_capture_seconds` (its part during which calls
to the endpoint wait), `checkpoint_seconds` and `checkpoint_capture_seconds` (a later
checkpoint, which captures ended executions and logged events only once),
`restore_seconds` (read and parse the snapshot, check its shape, put everything back),
`snapshot_megabytes`.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/workflow"
STACK = "BenchStack"
FAILED_SHARE = 0.3
QUEUED = 50  # messages still waiting in the task queue
LOG_LINES_PER_TASK = 13
# The workflow's shape without its functions: the same states entered, so histories of the
# same length (about 10 events for a success, 13 for a failure).
DEFINITION = {
    "StartAt": "ProcessTask",
    "States": {
        "ProcessTask": {"Type": "Pass", "Next": "Outcome"},
        "Outcome": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.fail", "BooleanEquals": True, "Next": "SendToDlq"}],
            "Default": "Done",
        },
        "SendToDlq": {"Type": "Pass", "Next": "TaskFailed"},
        "TaskFailed": {"Type": "Fail", "Error": "PermanentTaskError", "Cause": "simulated"},
        "Done": {"Type": "Pass", "Result": {"status": "processed", "attempt": 1}, "End": True},
    },
}
FUNCTIONS = ("submit-task", "start-execution", "process-task", "monitor-dlq")


def _log_line(task_id: str, function: str, n: int) -> str:
    return json.dumps(
        {
            "level": "INFO",
            "location": f"handler:{40 + n}",
            "message": f"step {n} of task {task_id}",
            "timestamp": "2026-11-30 10:50:51,123+0000",
            "service": function,
            "cold_start": False,
            "function_name": f"{STACK}-{function}",
            "function_memory_size": "512",
            "function_arn": f"arn:aws:lambda:{REGION}:123456789012:function:{STACK}-{function}",
            "function_request_id": "5f1c0a2e-3a51-4a7e-9a0e-6f2d7c0b9e4d",
            "correlation_id": "b1e2c3d4-0000-4000-8000-000000000000",
            "taskId": task_id,
            "xray_trace_id": "1-6747a1b2-3c4d5e6f7a8b9c0d1e2f3a4b",
        }
    )


def _create_stack(boto3: Any) -> dict[str, str]:
    sqs = boto3.client("sqs", region_name=REGION)
    dlq = sqs.create_queue(QueueName=f"{STACK}-dead-letter-queue")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])
    redrive = {"deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"], "maxReceiveCount": 5}
    queue = sqs.create_queue(
        QueueName=f"{STACK}-task-queue", Attributes={"RedrivePolicy": json.dumps(redrive)}
    )["QueueUrl"]
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=f"{STACK}-tasks",
        KeySchema=[{"AttributeName": "taskId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "taskId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    machine = boto3.client("stepfunctions", region_name=REGION).create_state_machine(
        name=f"{STACK}-task-workflow", definition=json.dumps(DEFINITION), roleArn=ROLE
    )["stateMachineArn"]
    return {"queue": queue, "dlq": dlq, "machine": machine}


def _fill(boto3: Any, stack: dict[str, str], tasks: int) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    table = boto3.client("dynamodb", region_name=REGION)
    sfn = boto3.client("stepfunctions", region_name=REGION)
    logs = boto3.client("logs", region_name=REGION)
    for function in FUNCTIONS:
        group = f"/aws/lambda/{STACK}-{function}"
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName="worker-1")
    now = int(time.time() * 1000)
    for n in range(tasks):
        task_id = f"task-{n:05d}"
        failed = n % 10 < FAILED_SHARE * 10
        table.put_item(
            TableName=f"{STACK}-tasks",
            Item={
                "taskId": {"S": task_id},
                "payloadDigest": {"S": f"{n:064x}"},
                "status": {"S": "QUEUED"},
                "acceptedAt": {"S": "2026-11-30T10:50:51.123Z"},
                "runs": {"L": [{"S": task_id}]},
            },
        )
        sfn.start_execution(
            stateMachineArn=stack["machine"],
            name=task_id,
            input=json.dumps({"taskId": task_id, "payload": {"n": n}, "fail": failed}),
        )
        events = [
            {"timestamp": now + n, "message": _log_line(task_id, FUNCTIONS[i % 4], i)}
            for i in range(LOG_LINES_PER_TASK)
        ]
        for i, function in enumerate(FUNCTIONS):
            logs.put_log_events(
                logGroupName=f"/aws/lambda/{STACK}-{function}",
                logStreamName="worker-1",
                logEvents=events[i::4],
            )
        if failed:
            sqs.send_message(
                QueueUrl=stack["dlq"],
                MessageBody=json.dumps(
                    {"source": "workflow", "taskId": task_id, "error": "PermanentTaskError"}
                ),
            )
    for n in range(QUEUED):
        sqs.send_message(QueueUrl=stack["queue"], MessageBody=json.dumps({"taskId": f"queued-{n}"}))


def _wait_for_executions(region: str) -> None:
    from ftb.localcloud.persistence import stepfunctions

    deadline = time.monotonic() + 600
    while stepfunctions.running_count(region):
        if time.monotonic() > deadline:
            raise RuntimeError("executions did not end")
        time.sleep(0.2)


def measure(tasks: int = 2000, repeats: int = 3) -> dict[str, Any]:
    """Median save and restore times (seconds) of a local cloud's state holding `tasks` tasks."""
    import boto3
    from moto import mock_aws

    # moto's engine logs every Fail state at ERROR; here failing is the point (as in `ftb local`)
    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)

    from ftb.localcloud.lambda_runtime import LambdaRuntime
    from ftb.localcloud.persistence import StateKeeper

    config: Any = {"stepfunctions": {"execute_state_machine": True}}
    saves: list[float] = []
    captures: list[float] = []
    checkpoints: list[float] = []
    checkpoint_captures: list[float] = []
    restores: list[float] = []
    size = 0
    with tempfile.TemporaryDirectory(prefix="ftb-bench-persistence-") as work:
        directory = Path(work) / "local.saved"
        runtime = LambdaRuntime("http://127.0.0.1:9", REGION, ship_logs=False)
        try:
            with mock_aws(config=config):
                stack = _create_stack(boto3)
                _fill(boto3, stack, tasks)
                _wait_for_executions(REGION)
                for _ in range(repeats):
                    # A new keeper captures everything; its next save is a checkpoint.
                    keeper = StateKeeper(
                        directory, REGION, say=lambda _: None, checkpoint_seconds=0
                    )
                    keeper.restore(runtime, None)  # nothing loaded: arms saving
                    for into, capture_into in (
                        (saves, captures),
                        (checkpoints, checkpoint_captures),
                    ):
                        figures = keeper.save()
                        assert figures is not None
                        into.append(figures.capture_seconds + figures.write_seconds)
                        capture_into.append(figures.capture_seconds)
                        size = figures.bytes
            for _ in range(repeats):
                with mock_aws(config=config):
                    _create_stack(boto3)
                    started = time.perf_counter()
                    keeper = StateKeeper(
                        directory, REGION, say=lambda _: None, checkpoint_seconds=0
                    )
                    keeper.load(fresh=False)
                    summary = keeper.restore(runtime, None)
                    restores.append(time.perf_counter() - started)
                    assert summary is not None and summary.executions == tasks
        finally:
            runtime.shutdown()
    return {
        "tasks": tasks,
        "save_seconds": round(statistics.median(saves), 3),
        "save_capture_seconds": round(statistics.median(captures), 3),
        "checkpoint_seconds": round(statistics.median(checkpoints), 3),
        "checkpoint_capture_seconds": round(statistics.median(checkpoint_captures), 3),
        "restore_seconds": round(statistics.median(restores), 3),
        "snapshot_megabytes": round(size / 1_000_000, 1),
        "repeats": repeats,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    figures = measure(args.tasks, args.repeats)
    print(f"local state at {figures['tasks']} tasks ({figures['snapshot_megabytes']} MB):")
    print(
        f"  save     {figures['save_seconds']:.2f} s  "
        f"(AWS calls held {figures['save_capture_seconds']:.2f} s)"
    )
    print(
        f"  checkpoint {figures['checkpoint_seconds']:.2f} s  "
        f"(AWS calls held {figures['checkpoint_capture_seconds']:.2f} s)"
    )
    print(f"  restore  {figures['restore_seconds']:.2f} s")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
