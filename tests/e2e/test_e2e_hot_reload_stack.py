"""Hot reload of the stack itself: the CDK app or the workflow changes, `ftb local`
re-synthesizes and applies the difference to the running cloud. On a copy of the extended
test app (tests/support/extra_app): its extra queue, function, mapping and route are removed,
then added back, while the rest of the stack (and its tasks) runs on; a workflow edit
reaches new executions."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.support.app_copy import copy_app
from tests.support.local_cloud import EXTRA_APP, LocalCloudProcess, http, wait_for

# A hang guard only: synths on a loaded machine take their time; each wait is bounded.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]

APP_FILE = Path("tests") / "support" / "extra_app" / "app.py"
WITH_EXTRAS = "    ExtendedStack(app, config.stack_name, config=config)\n"
WITHOUT_EXTRAS = "    FaultTolerantBackendStack(app, config.stack_name, config=config)\n"
RELOAD_LINE = re.compile(r"^hot reload: \S.*", re.MULTILINE)  # not its "  not applied" lines
SYNTH_SECONDS = 300.0


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_app(tmp_path_factory.mktemp("hot-reload-stack") / "app", EXTRA_APP)


@pytest.fixture(scope="module")
def cloud(app: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    process = LocalCloudProcess(
        "hot-reload-stack",
        ["--app", EXTRA_APP, "--set-env", "process-task:FAILURE_RATE=0", "--quiet"],
        tmp_path_factory.mktemp("hot-reload-stack-cloud"),
        cwd=app,
    )
    process.start()
    try:
        yield process.wait_ready(timeout=SYNTH_SECONDS)
    finally:
        process.stop()


def reload_lines(cloud: LocalCloudProcess) -> list[str]:
    return RELOAD_LINE.findall(cloud.log_file.read_text(errors="replace"))


def wait_reload(cloud: LocalCloudProcess, seen: int) -> str:
    lines = wait_for(
        lambda: reload_lines(cloud)[seen:] or None, SYNTH_SECONDS, "a hot reload", interval=0.2
    )
    return lines[0]


def state(cloud: LocalCloudProcess) -> dict[str, object]:
    document: dict[str, object] = json.loads(cloud.state_file.read_text(encoding="utf-8"))
    return document


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_removed_and_added_queue_function_mapping_and_route_apply_live(
    app: Path, cloud: LocalCloudProcess
) -> None:
    # Given the extended stack running, its extra route answering, and a task accepted
    api = cloud.outputs["ApiUrl"].rstrip("/")
    assert http("GET", f"{api}/extra/bob").status == 200
    extra_function = cloud.outputs["ExtraFunctionName"]
    assert cloud.submit("stack-before").status == 202
    # And a message accepted by the extra queue, not yet visible (delayed 15 minutes)
    sqs = cloud.client("sqs")
    extra_queue = cloud.outputs["ExtraQueueUrl"]
    sqs.send_message(QueueUrl=extra_queue, MessageBody="accepted", DelaySeconds=900)
    pid, seen = cloud.pid, len(reload_lines(cloud))

    # When the app stops adding the extra resources
    replace_in(app / APP_FILE, WITH_EXTRAS, WITHOUT_EXTRAS)
    line = wait_reload(cloud, seen)

    # Then one line lists what went, and it is gone: the route, the function, the queue
    for what in ("removed function extra", "removed route GET /extra/{name}", "removed mapping"):
        assert what in line, line
    assert http("GET", f"{api}/extra/bob").status == 403  # API Gateway: no such route
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        cloud.client("lambda").get_function(FunctionName=extra_function)
    assert "ExtraQueueUrl" not in state(cloud)["outputs"]  # type: ignore[operator]
    # But the queue that holds an accepted message is kept, and named
    text = cloud.log_file.read_text(errors="replace")
    assert re.search(r"not applied: ExtraQueue\S* \(AWS::SQS::Queue\): .*holds 1 message", text)

    # When they are added back
    replace_in(app / APP_FILE, WITHOUT_EXTRAS, WITH_EXTRAS)
    line = wait_reload(cloud, seen + 1)

    # Then they run again: the route answers, the queue is polled into the function
    assert "new function extra" in line and "new route GET /extra/{name}" in line, line
    assert http("GET", f"{api}/extra/bob").status == 200
    queue_url = state(cloud)["outputs"]["ExtraQueueUrl"]  # type: ignore[index]
    assert queue_url == extra_queue
    delayed = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]["ApproximateNumberOfMessagesDelayed"]
    assert delayed == "1"  # the accepted message is still there
    sqs.send_message(QueueUrl=queue_url, MessageBody="after-reload")
    wait_for(
        lambda: any(
            "after-reload" in message
            for message in cloud.log_messages(f"/aws/lambda/{extra_function}")
        ),
        60,
        "the extra function to consume a message from the re-created queue",
    )
    # And the rest of the stack ran on, in the same process: the task accepted before succeeded
    assert cloud.pid == pid and cloud.process is not None and cloud.process.poll() is None
    assert cloud.wait_for_status("stack-before", "SUCCEEDED", timeout=120)


def test_a_workflow_edit_reaches_new_executions(app: Path, cloud: LocalCloudProcess) -> None:
    # Given the running workflow
    machine = cloud.outputs["StateMachineArn"]
    stepfunctions = cloud.client("stepfunctions")
    seen = len(reload_lines(cloud))
    # When its retry interval is edited
    replace_in(
        app / "statemachine" / "task_workflow.asl.json",
        '"IntervalSeconds": 2,',
        '"IntervalSeconds": 1,',
    )
    started = time.monotonic()
    line = wait_reload(cloud, seen)
    # Then the state machine is updated in place (same ARN) and new executions use it
    assert "state machine" in line and "DefinitionString" in line, line
    definition = json.loads(
        stepfunctions.describe_state_machine(stateMachineArn=machine)["definition"]
    )
    assert definition["States"]["ProcessTask"]["Retry"][1]["IntervalSeconds"] == 1
    assert cloud.submit("after-workflow-edit").status == 202
    assert cloud.wait_for_status("after-workflow-edit", "SUCCEEDED", timeout=120)
    assert time.monotonic() - started < SYNTH_SECONDS


def test_a_queue_attribute_applies_in_place_and_a_table_key_change_is_named(
    app: Path, cloud: LocalCloudProcess
) -> None:
    # Given a task on record and the extra queue's URL
    assert cloud.submit("before-key-change").status == 202
    assert cloud.wait_for_status("before-key-change", "SUCCEEDED", timeout=120)
    queue_url = state(cloud)["outputs"]["ExtraQueueUrl"]  # type: ignore[index]
    seen = len(reload_lines(cloud))

    # When the extra queue's visibility timeout changes
    replace_in(
        app / APP_FILE,
        "visibility_timeout=Duration.seconds(EXTRA_TIMEOUT_SECONDS)",
        "visibility_timeout=Duration.seconds(45)",
    )
    line = wait_reload(cloud, seen)
    # Then the same queue (same URL) has it
    assert "queue ExtraQueue" in line and "VisibilityTimeout" in line, line
    attributes = cloud.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["VisibilityTimeout"]
    )["Attributes"]
    assert attributes["VisibilityTimeout"] == "45"

    # When the table's partition key is renamed (CloudFormation would replace the table)
    replace_in(
        app / "infra" / "constructs" / "task_table.py",
        'partition_key=dynamodb.Attribute(name="taskId"',
        'partition_key=dynamodb.Attribute(name="id"',
    )
    wait_reload(cloud, seen + 1)
    # Then it is not applied: named, with what to do; the table and its items stay
    text = cloud.log_file.read_text(errors="replace")
    assert re.search(r"not applied: \S*Table\S* \(AWS::DynamoDB::Table\): .*KeySchema", text)
    assert "start it again" in text
    assert cloud.get_task("before-key-change").status == 200
