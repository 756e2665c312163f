"""The local CloudWatch's API on the endpoint (in process), driven with boto3: the shapes
botocore's model parses, the alarm's state transitions in scaled time, the history items as
CloudWatch writes them, and AWS's errors."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from ftb.localcloud.cloudwatch import LocalCloudWatch
from ftb.localcloud.endpoint import AwsEndpoint

REGION = "us-east-1"
ACCOUNT = "123456789012"
SCALE = 0.01  # a 60 s period lasts 0.6 s


@pytest.fixture(scope="module")
def cloud() -> Iterator[tuple[Any, LocalCloudWatch]]:
    endpoint = AwsEndpoint(None, port=0)
    local = LocalCloudWatch(REGION, ACCOUNT, SCALE)
    endpoint.register("monitoring", local.api)
    endpoint.start()
    try:
        client = boto3.session.Session().client(
            "cloudwatch",
            endpoint_url=endpoint.url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        yield client, local
    finally:
        endpoint.stop()


def alarm_params(name: str, namespace: str, **extra: Any) -> dict[str, Any]:
    return {
        "AlarmName": name,
        "Namespace": namespace,
        "MetricName": "DeadLetteredTasks",
        "Dimensions": [{"Name": "service", "Value": "monitor-dlq"}],
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching",
        **extra,
    }


def test_an_alarm_goes_to_alarm_and_back_to_ok_with_its_history(
    cloud: tuple[Any, LocalCloudWatch],
) -> None:
    client, local = cloud
    namespace, name = f"Test{uuid.uuid4().hex[:6]}", f"alarm-{uuid.uuid4().hex[:6]}"
    # Given a new alarm: INSUFFICIENT_DATA until evaluated
    client.put_metric_alarm(**alarm_params(name, namespace, AlarmDescription="dead letters"))
    described = client.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    assert described["StateValue"] == "INSUFFICIENT_DATA"
    assert described["StateReason"] == "Unchecked: Initial alarm creation"
    assert described["AlarmArn"] == f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"
    assert described["Period"] == 60 and described["Statistic"] == "Sum"
    # When a datapoint breaches and the alarm is evaluated
    client.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": "DeadLetteredTasks",
                "Dimensions": [{"Name": "service", "Value": "monitor-dlq"}],
                "Value": 2,
                "Unit": "Count",
            }
        ],
    )
    local.alarms.evaluate_all()
    # Then it is in ALARM with CloudWatch's reason and reason data
    described = client.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    assert described["StateValue"] == "ALARM"
    assert described["StateReason"].startswith(
        "Threshold Crossed: 1 out of the last 1 datapoints [2.0"
    )
    data = json.loads(described["StateReasonData"])
    assert data["recentDatapoints"] == [2.0] and data["threshold"] == 1.0
    assert data["statistic"] == "Sum" and data["period"] == 60
    # When the scaled evaluation range (1 + 2 periods of 0.6 s) has passed without data
    time.sleep(60 * SCALE * 3 + 0.1)
    local.alarms.evaluate_all()
    # Then it is OK again: missing data treated as not breaching
    assert client.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"] == "OK"
    # And the history holds both transitions, newest first, as CloudWatch writes them
    items = client.describe_alarm_history(AlarmName=name, HistoryItemType="StateUpdate")[
        "AlarmHistoryItems"
    ]
    assert [i["HistorySummary"] for i in items] == [
        "Alarm updated from ALARM to OK",
        "Alarm updated from INSUFFICIENT_DATA to ALARM",
    ]
    newest = json.loads(items[0]["HistoryData"])
    assert newest["oldState"]["stateValue"] == "ALARM"
    assert newest["newState"]["stateValue"] == "OK"
    assert items[0]["AlarmType"] == "MetricAlarm"
    everything = client.describe_alarm_history(AlarmName=name)["AlarmHistoryItems"]
    assert everything[-1]["HistoryItemType"] == "ConfigurationUpdate"
    assert everything[-1]["HistorySummary"] == f'Alarm "{name}" created'


def test_get_metric_data_and_list_metrics(cloud: tuple[Any, LocalCloudWatch]) -> None:
    client, _ = cloud
    namespace = f"Test{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC).replace(second=30, microsecond=0)
    dims = [{"Name": "FunctionName", "Value": "f"}]
    # Given three datapoints in one minute and one in the previous
    client.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {"MetricName": "Errors", "Dimensions": dims, "Value": v, "Timestamp": t}
            for v, t in ((1, now), (2, now), (3, now), (5, now - timedelta(minutes=1)))
        ],
    )
    metric = {"Namespace": namespace, "MetricName": "Errors", "Dimensions": dims}
    # When read per minute with a math expression beside it
    answer = client.get_metric_data(
        MetricDataQueries=[
            {"Id": "m", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"}},
            {"Id": "doubled", "Expression": "m * 2", "Label": "twice"},
            {
                "Id": "hidden",
                "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Maximum"},
                "ReturnData": False,
            },
        ],
        StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(minutes=1),
    )
    # Then newest first, per period, only the queries that return data
    results = {r["Id"]: r for r in answer["MetricDataResults"]}
    assert set(results) == {"m", "doubled"}
    minute = now.replace(second=0)
    assert results["m"]["Timestamps"] == [minute, minute - timedelta(minutes=1)]
    assert results["m"]["Values"] == [6.0, 5.0]
    assert results["m"]["Label"] == "Errors" and results["m"]["StatusCode"] == "Complete"
    assert results["doubled"]["Values"] == [12.0, 10.0] and results["doubled"]["Label"] == "twice"
    # And ListMetrics lists the metric, filtered by dimension
    listed = client.list_metrics(Namespace=namespace, Dimensions=[{"Name": "FunctionName"}])
    assert listed["Metrics"] == [metric]
    none = client.list_metrics(Namespace=namespace, Dimensions=[{"Name": "Other"}])
    assert none["Metrics"] == []


def test_set_alarm_state_describe_filters_and_paging(cloud: tuple[Any, LocalCloudWatch]) -> None:
    client, _ = cloud
    prefix = f"page-{uuid.uuid4().hex[:6]}-"
    for n in range(3):
        client.put_metric_alarm(**alarm_params(f"{prefix}{n}", "TestPaging"))
    # Given one alarm set to ALARM by hand
    client.set_alarm_state(AlarmName=f"{prefix}1", StateValue="ALARM", StateReason="testing")
    # When filtered by state / paged two at a time
    firing = client.describe_alarms(AlarmNamePrefix=prefix, StateValue="ALARM")["MetricAlarms"]
    first = client.describe_alarms(AlarmNamePrefix=prefix, MaxRecords=2)
    second = client.describe_alarms(AlarmNamePrefix=prefix, NextToken=first["NextToken"])
    # Then as AWS answers: the one alarm; 2 + 1 in name order
    assert [a["AlarmName"] for a in firing] == [f"{prefix}1"]
    assert firing[0]["StateReason"] == "testing"
    names = [a["AlarmName"] for a in first["MetricAlarms"] + second["MetricAlarms"]]
    assert names == [f"{prefix}{n}" for n in range(3)] and "NextToken" not in second
    both = client.describe_alarms(AlarmNamePrefix=prefix, AlarmTypes=["CompositeAlarm"])
    assert both["CompositeAlarms"] == [] and both["MetricAlarms"] == []


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (
            lambda c: c.set_alarm_state(AlarmName="nope", StateValue="OK", StateReason="r"),
            "ResourceNotFound",
        ),
        (lambda c: c.delete_alarms(AlarmNames=["nope"]), "ResourceNotFound"),
        (
            lambda c: c.put_metric_data(
                Namespace="AWS/Lambda", MetricData=[{"MetricName": "x", "Value": 1}]
            ),
            "InvalidParameterValue",
        ),
        (
            lambda c: c.put_metric_alarm(**alarm_params("bad", "N", Period=45)),
            "InvalidParameterValue",
        ),
        (
            lambda c: c.describe_alarms(AlarmNames=["a"], AlarmNamePrefix="a"),
            "InvalidParameterCombination",
        ),
        (lambda c: c.describe_alarms(NextToken="garbage!"), "InvalidNextToken"),
        (lambda c: c.get_dashboard(DashboardName="d"), "UnknownOperationException"),
        (
            lambda c: c.put_composite_alarm(AlarmName="c", AlarmRule="TRUE"),
            "UnknownOperationException",
        ),
    ],
)
def test_errors_have_aws_codes(cloud: tuple[Any, LocalCloudWatch], call: Any, code: str) -> None:
    client, _ = cloud
    # When a call is invalid, or not emulated / Then AWS's error code, never a 5xx
    with pytest.raises(ClientError) as raised:
        call(client)
    assert raised.value.response["Error"]["Code"] == code
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] < 500
