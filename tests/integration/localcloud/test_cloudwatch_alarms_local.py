"""The stack's alarms evaluated by `ftb local`: failures driven through the local cloud
(process-task failing every invocation, `--set-env process-task:FAILURE_RATE=1`) dead-letter
the tasks; the monitor's embedded metric fires the dead-letter alarm, which goes back to OK
once no task is dead-lettered for its evaluation range, all in scaled time
(`--alarm-period-scale 0.01`: a 300 s period lasts 3 s). Read the way `ftb chaos` and the AWS
CLI read them: DescribeAlarms, DescribeAlarmHistory, GetMetricData, ListMetrics."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.local_cloud import LocalCloudProcess, starts_a_local_cloud, wait_for

SCALE = 0.01
DEAD_LETTER_ALARM = "FaultTolerantBackend-DeadLetteredTasks"

pytestmark = [pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
@starts_a_local_cloud
def failing_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    cloud = LocalCloudProcess(
        "alarms",
        [
            "--quiet",
            "--no-watch",
            "--set-env",
            "process-task:FAILURE_RATE=1",
            "--alarm-period-scale",
            str(SCALE),
        ],
        tmp_path_factory.mktemp("alarms-cloud"),
    )
    cloud.start()
    try:
        yield cloud.wait_ready()
    finally:
        cloud.stop(timeout=60)


def template_alarms(cloud: LocalCloudProcess) -> list[dict[str, Any]]:
    """The stack's AWS::CloudWatch::Alarm resources, as the running cloud synthesized them."""
    template = json.loads(Path(cloud.state["template"]).read_text())
    resources = template["Resources"].values()
    return [r for r in resources if r["Type"] == "AWS::CloudWatch::Alarm"]


def alarm_state(cloudwatch: Any, name: str) -> str:
    return str(cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"])


def test_the_dead_letter_alarm_fires_and_recovers(failing_cloud: LocalCloudProcess) -> None:
    cloudwatch = failing_cloud.client("cloudwatch")
    # Given the stack's alarms, provisioned from the template and evaluated from the start
    alarms = {a["AlarmName"]: a for a in cloudwatch.describe_alarms(MaxRecords=100)["MetricAlarms"]}
    assert DEAD_LETTER_ALARM in alarms and len(alarms) == len(template_alarms(failing_cloud))
    rate = alarms["FaultTolerantBackend-ProcessTaskErrorRate"]
    assert rate["Metrics"][0]["Expression"] == "IF(invocations > 0, 100 * errors / invocations, 0)"
    wait_for(
        lambda: alarm_state(cloudwatch, DEAD_LETTER_ALARM) == "OK" or None,
        30,
        "the first evaluation",
    )
    # When tasks are submitted while process-task fails every invocation
    ids = [f"alarm-{uuid.uuid4().hex[:8]}-{n}" for n in range(3)]
    for task_id in ids:
        assert failing_cloud.submit(task_id).status == 202
    # Then the dead-letter alarm goes to ALARM...
    wait_for(lambda: alarm_state(cloudwatch, DEAD_LETTER_ALARM) == "ALARM" or None, 120, "ALARM")
    fired = time.monotonic()
    # ...and back to OK once its evaluation range (3 scaled periods: 9 s) holds no dead letter
    wait_for(lambda: alarm_state(cloudwatch, DEAD_LETTER_ALARM) == "OK" or None, 120, "OK")
    assert time.monotonic() - fired < 60
    # And DescribeAlarmHistory shows both transitions, newest first
    items = cloudwatch.describe_alarm_history(
        AlarmName=DEAD_LETTER_ALARM, HistoryItemType="StateUpdate"
    )["AlarmHistoryItems"]
    summaries = [i["HistorySummary"] for i in items]
    assert summaries[:2] == ["Alarm updated from ALARM to OK", "Alarm updated from OK to ALARM"]
    fired_data = json.loads(items[1]["HistoryData"])
    assert fired_data["newState"]["stateReasonData"]["statistic"] == "Sum"
    assert fired_data["newState"]["stateReasonData"]["period"] == 300
    # And the terminal printed one line per transition (in --quiet mode too)
    log = failing_cloud.log_file.read_text(errors="replace")
    assert f"{DEAD_LETTER_ALARM}: OK -> ALARM" in log
    assert f"{DEAD_LETTER_ALARM}: ALARM -> OK" in log
    # And the other failure alarms saw it: executions failed, process-task's error rate 100 %
    for name in ("ExecutionsFailed", "ProcessTaskErrorRate"):
        history = cloudwatch.describe_alarm_history(
            AlarmName=f"FaultTolerantBackend-{name}", HistoryItemType="StateUpdate"
        )["AlarmHistoryItems"]
        assert any(i["HistorySummary"].endswith("to ALARM") for i in history), name


def test_the_collected_metrics_answer_get_metric_data_and_list_metrics(
    failing_cloud: LocalCloudProcess,
) -> None:
    cloudwatch = failing_cloud.client("cloudwatch")
    function = failing_cloud.function_name("process-task")
    # Given the failures of the previous test (or new ones)
    assert failing_cloud.submit(f"alarm-{uuid.uuid4().hex[:8]}").status == 202
    now = datetime.now(UTC)

    def errors() -> float | None:
        answer = cloudwatch.get_metric_data(
            MetricDataQueries=[
                {
                    "Id": "errors",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": "AWS/Lambda",
                            "MetricName": "Errors",
                            "Dimensions": [{"Name": "FunctionName", "Value": function}],
                        },
                        "Period": 3600,
                        "Stat": "Sum",
                    },
                }
            ],
            StartTime=now - timedelta(hours=1),
            EndTime=now + timedelta(hours=1),
        )
        values = answer["MetricDataResults"][0]["Values"]
        return sum(values) if values and sum(values) > 0 else None

    # When Lambda's errors are read / Then process-task's failed invocations are counted
    assert wait_for(errors, 60, "process-task errors") >= 1
    # And ListMetrics names every namespace the alarms read, with AWS's dimensions (once the
    # task's retries have ended in the dead letters and the sampler's minute has passed)
    expected = {
        ("AWS/Lambda", "Invocations", ("FunctionName",)),
        ("AWS/Lambda", "Duration", ("FunctionName",)),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", ("QueueName",)),
        ("AWS/States", "ExecutionsStarted", ("StateMachineArn",)),
        ("AWS/States", "ExecutionsFailed", ("StateMachineArn",)),
        ("FaultTolerantBackend", "DeadLetteredTasks", ("service",)),
        ("AWS/ApiGateway", "5XXError", ("ApiName",)),
        ("AWS/ApiGateway", "Count", ("ApiName", "Stage")),
    }

    def listed() -> set[tuple[str, str, tuple[str, ...]]]:
        return {
            (m["Namespace"], m["MetricName"], tuple(d["Name"] for d in m["Dimensions"]))
            for m in cloudwatch.list_metrics()["Metrics"]
        }

    wait_for(lambda: expected <= listed() or None, 60, "ListMetrics to name every metric")
