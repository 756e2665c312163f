"""FIS's control plane on the local endpoint, called with boto3 as on AWS: the reads, start,
stop, the states an experiment goes through, AWS's errors for unknown ids, the refusal of the
operations not emulated, and a stop condition read through CloudWatch's DescribeAlarms."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from ftb.localcloud.cloudwatch.service import LocalCloudWatch
from ftb.localcloud.endpoint import AwsEndpoint
from ftb.localcloud.fis import FisApi, FisInjector, FisService, FunctionTarget
from ftb.localcloud.fis.model import from_properties
from ftb.localcloud.fis.wiring import alarm_reader

ALARM = "stack-DeadLetteredTasks"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:stack-process-task"
POLL_SECONDS = 0.2  # the stop conditions' poll: the "evaluation period" of this test


def template_props(duration: str) -> dict[str, Any]:
    return {
        "Description": "process-task fails every invocation",
        "RoleArn": "arn:aws:iam::123456789012:role/fis",
        "Targets": {
            "Functions": {
                "ResourceType": "aws:lambda:function",
                "ResourceTags": {"chaos-target": "process-task"},
                "SelectionMode": "ALL",
            }
        },
        "Actions": {
            "Fail": {
                "ActionId": "aws:lambda:invocation-error",
                "Parameters": {"duration": duration, "preventExecution": "true"},
                "Targets": {"Functions": "Functions"},
            }
        },
        "StopConditions": [
            {
                "Source": "aws:cloudwatch:alarm",
                "Value": f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{ALARM}",
            }
        ],
        "Tags": {"Name": "process-task-total-failure"},
    }


def client(endpoint: AwsEndpoint, service: str) -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def endpoint() -> Iterator[AwsEndpoint]:
    served = AwsEndpoint(None, port=0)
    # The stop conditions read alarms through CloudWatch on the endpoint, as in `ftb local`.
    served.register("monitoring", LocalCloudWatch("us-east-1", "123456789012").api)
    service = FisService("us-east-1", "123456789012", FisInjector(), poll_seconds=POLL_SECONDS)
    served.register("fis", FisApi(service))
    served.start()
    templates = [
        from_properties(
            template_props(duration),
            template_id=f"EXT{name}",
            arn=f"arn:aws:fis:us-east-1:123456789012:experiment-template/EXT{name}",
            logical_id=name,
            created=time.time(),
        )
        for name, duration in (("Long", "PT5M"), ("Short", "PT0.5S"))
    ]
    target = FunctionTarget(
        FUNCTION_ARN, "stack-process-task", {"chaos-target": "process-task"}, {}
    )
    service.bind(templates, lambda: [target], alarm_reader(lambda: client(served, "cloudwatch")))
    served.fis = service  # type: ignore[attr-defined]
    try:
        yield served
    finally:
        service.stop_all()
        served.stop()


def wait_status(fis: Any, experiment_id: str, wanted: set[str], timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        experiment = fis.get_experiment(id=experiment_id)["experiment"]
        if experiment["state"]["status"] in wanted:
            return experiment  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, experiment["state"]
        time.sleep(0.02)


def test_templates_are_listed_and_read_as_fis_answers(endpoint: AwsEndpoint) -> None:
    fis = client(endpoint, "fis")
    listed = fis.list_experiment_templates()["experimentTemplates"]
    assert [t["id"] for t in listed] == ["EXTLong", "EXTShort"]
    assert listed[0]["tags"] == {"Name": "process-task-total-failure"}
    page = fis.list_experiment_templates(maxResults=1)
    assert len(page["experimentTemplates"]) == 1 and page["nextToken"]
    full = fis.get_experiment_template(id="EXTLong")["experimentTemplate"]
    assert full["actions"]["Fail"]["parameters"]["preventExecution"] == "true"
    assert full["targets"]["Functions"]["selectionMode"] == "ALL"


def test_unknown_ids_get_resource_not_found(endpoint: AwsEndpoint) -> None:
    fis = client(endpoint, "fis")
    for call in (
        lambda: fis.get_experiment_template(id="EXTnope"),
        lambda: fis.get_experiment(id="EXPnope"),
        lambda: fis.stop_experiment(id="EXPnope"),
        lambda: fis.start_experiment(experimentTemplateId="EXTnope", clientToken="t"),
    ):
        with pytest.raises(ClientError) as raised:
            call()
        assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_operations_not_emulated_are_refused(endpoint: AwsEndpoint) -> None:
    fis = client(endpoint, "fis")
    with pytest.raises(ClientError) as raised:
        fis.create_experiment_template(
            clientToken="t",
            description="x",
            roleArn="arn:aws:iam::123456789012:role/fis",
            stopConditions=[{"source": "none"}],
            actions={"Wait": {"actionId": "aws:fis:wait", "parameters": {"duration": "PT1M"}}},
        )
    assert raised.value.response["Error"]["Code"] == "UnknownOperationException"
    with pytest.raises(ClientError):
        fis.list_actions()


def test_an_experiment_runs_to_completion_and_is_listed(endpoint: AwsEndpoint) -> None:
    fis = client(endpoint, "fis")
    started = fis.start_experiment(experimentTemplateId="EXTShort", clientToken="t")["experiment"]
    assert started["state"]["status"] in {"pending", "initiating", "running"}
    done = wait_status(fis, started["id"], {"completed", "stopped", "failed"})
    assert done["state"] == {"status": "completed", "reason": "Experiment completed."}
    assert done["actions"]["Fail"]["state"]["status"] == "completed"
    assert done["startTime"] <= done["endTime"]
    listed = fis.list_experiments(experimentTemplateId="EXTShort")["experiments"]
    assert [e["id"] for e in listed] == [started["id"]]


def test_stop_experiment_stops_it(endpoint: AwsEndpoint) -> None:
    fis = client(endpoint, "fis")
    started = fis.start_experiment(experimentTemplateId="EXTLong", clientToken="t")["experiment"]
    wait_status(fis, started["id"], {"running"})
    fis.stop_experiment(id=started["id"])
    stopped = wait_status(fis, started["id"], {"stopped"})
    assert stopped["actions"]["Fail"]["state"]["status"] == "stopped"
    assert not endpoint.fis.injector.active_on(FUNCTION_ARN)  # type: ignore[attr-defined]


def test_a_stop_condition_alarm_stops_the_experiment_within_one_period(
    endpoint: AwsEndpoint,
) -> None:
    # Given the stop condition's alarm, OK, set through CloudWatch on the endpoint
    # (SetAlarmState: this branch does not evaluate the stack's alarms itself)
    cloudwatch, fis = client(endpoint, "cloudwatch"), client(endpoint, "fis")
    cloudwatch.put_metric_alarm(
        AlarmName=ALARM,
        Namespace="FaultTolerantBackend",
        MetricName="DeadLetteredTasks",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    started = fis.start_experiment(experimentTemplateId="EXTLong", clientToken="t")["experiment"]
    wait_status(fis, started["id"], {"running"})
    # When the alarm goes to ALARM
    cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="test")
    tripped = time.monotonic()
    stopped = wait_status(fis, started["id"], {"stopped", "completed", "failed"})
    # Then the experiment is stopped by it within one poll period (and a request's time)
    assert time.monotonic() - tripped < POLL_SECONDS + 0.5
    assert stopped["state"]["status"] == "stopped"
    assert ALARM in stopped["state"]["reason"]
