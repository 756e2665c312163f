"""AWS::CloudWatch::Alarm: created through the endpoint's PutMetricAlarm (the same validation
a client meets), Ref = the alarm's name, Arn = its ARN. Composite alarms and anomaly
detectors stay "not emulated" (no provisioner)."""

from __future__ import annotations

from typing import Any

from ftb.localcloud.provision.context import ProvisionContext, provisioner
from ftb.localcloud.template import Resource

# CloudFormation's properties that PutMetricAlarm does not take under the same name.
_NOT_API = {"Tags"}
# CloudFormation takes numbers and booleans as strings too; the API's client does not.
_NUMBERS = {"Threshold": float, "Period": int, "EvaluationPeriods": int, "DatapointsToAlarm": int}


ALARM = "AWS::CloudWatch::Alarm"


@provisioner(ALARM)
def alarm_provisioner(ctx: ProvisionContext, resource: Resource, props: dict[str, Any]) -> None:
    name = props.get("AlarmName") or ctx.physical_name(resource, 255)
    params = {key: value for key, value in props.items() if key not in _NOT_API}
    params["AlarmName"] = name
    for key, kind in _NUMBERS.items():
        if isinstance(params.get(key), str):
            params[key] = kind(params[key])
    if isinstance(params.get("ActionsEnabled"), str):
        params["ActionsEnabled"] = params["ActionsEnabled"].lower() == "true"
    for query in params.get("Metrics") or []:
        if isinstance(query.get("ReturnData"), str):
            query["ReturnData"] = query["ReturnData"].lower() == "true"
        stat = query.get("MetricStat")
        if isinstance(stat, dict) and isinstance(stat.get("Period"), str):
            stat["Period"] = int(stat["Period"])
    if props.get("Tags"):
        params["Tags"] = props["Tags"]
    ctx.clients.cloudwatch.put_metric_alarm(**params)
    arn = ctx.arn("cloudwatch", f"alarm:{name}")
    ctx.resolver.set_resource(resource.logical_id, name, {"Arn": arn})
