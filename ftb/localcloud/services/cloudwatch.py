"""Amazon CloudWatch: metric alarms, evaluated by the local CloudWatch (ftb/localcloud/cloudwatch)
on the metrics it collects. moto's CloudWatch is never consulted (it neither collects nor
evaluates); alarms hold no data a restart must keep, so a reload puts them again."""

from __future__ import annotations

from ftb.localcloud.cloudwatch.provisioner import ALARM, alarm_provisioner
from ftb.localcloud.registry import Service, register

register(
    Service(
        name="cloudwatch",
        signing_name="monitoring",
        moto_responses=(("cloudwatch", "CloudWatchResponse"),),
        moto_consulted=False,
        provisioners={ALARM: alarm_provisioner},
        rebuilt_prefixes=(ALARM,),
    )
)
