"""AWS::CloudWatch::Alarm: created through the endpoint's PutMetricAlarm (the same validation
a client meets), Ref = the alarm's name, Arn = its ARN. Composite alarms and anomaly
detectors stay "not emulated" (no provisioner)."""

from __future__ import annotations

from typing import Any

from ftb.localcloud.provision.context import ProvisionContext, provisioner
from ftb.localcloud.template import Resource

# CloudFormation's properties that PutMetricAlarm does not take under the same name.
_NOT_API = {"Tags"}


@provisioner("AWS::CloudWatch::Alarm")
def _alarm(ctx: ProvisionContext, resource: Resource, props: dict[str, Any]) -> None:
    name = props.get("AlarmName") or ctx.physical_name(resource, 255)
    params = {key: value for key, value in props.items() if key not in _NOT_API}
    params["AlarmName"] = name
    if props.get("Tags"):
        params["Tags"] = props["Tags"]
    ctx.clients.cloudwatch.put_metric_alarm(**params)
    arn = ctx.arn("cloudwatch", f"alarm:{name}")
    ctx.resolver.set_resource(resource.logical_id, name, {"Arn": arn})
