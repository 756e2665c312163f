"""`AWS::FIS::ExperimentTemplate`: checked as FIS checks it (an invalid one fails the start,
as it would fail the deployment), its Ref (the template id) recorded.

A stop condition's `Value` is usually `Fn::GetAtt [<alarm>, Arn]` of a stack alarm; its ARN
is CloudWatch's `arn:<partition>:cloudwatch:<region>:<account>:alarm:<AlarmName>`, built here
from the alarm's own name so that the condition reads the alarm DescribeAlarms answers for,
whoever provisions the alarm."""

from __future__ import annotations

import copy
import time
from typing import Any

from ftb.localcloud.fis.model import TemplateInvalid, from_properties
from ftb.localcloud.fis.service import template_id
from ftb.localcloud.provision.context import ProvisionContext, ProvisionError, provisioner
from ftb.localcloud.template import Resource

ALARM_TYPES = {"AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"}


EXPERIMENT_TEMPLATE = "AWS::FIS::ExperimentTemplate"


@provisioner(EXPERIMENT_TEMPLATE)
def experiment_template_provisioner(
    ctx: ProvisionContext, resource: Resource, props: dict[str, Any]
) -> None:
    new_id = template_id(ctx.context.stack_name, resource.logical_id)
    arn = ctx.arn("fis", f"experiment-template/{new_id}")
    props = copy.deepcopy(props)
    raw = resource.properties.get("StopConditions") or []
    for raw_condition, condition in zip(raw, props.get("StopConditions") or [], strict=False):
        name = _alarm_name(
            ctx, raw_condition.get("Value") if isinstance(raw_condition, dict) else None
        )
        if name is not None:
            condition["Value"] = ctx.arn("cloudwatch", f"alarm:{name}")
    try:
        template = from_properties(
            props, template_id=new_id, arn=arn, logical_id=resource.logical_id, created=time.time()
        )
    except TemplateInvalid as error:
        message = f"{resource.logical_id} (AWS::FIS::ExperimentTemplate): {error}"
        raise ProvisionError(message) from None
    ctx.resolver.set_resource(resource.logical_id, new_id, {"Id": new_id})
    ctx.stack.experiment_templates.append(template)
    if template.unemulated_actions:
        ctx.stack.warnings.append(
            f"experiment template {template.name}: {', '.join(template.unemulated_actions)} "
            "not emulated (an experiment of it fails locally)"
        )


def _alarm_name(ctx: ProvisionContext, value: Any) -> str | None:
    """The name of the stack alarm a `Fn::GetAtt [<alarm>, Arn]` names, else None."""
    if not isinstance(value, dict) or list(value) != ["Fn::GetAtt"]:
        return None
    target = value["Fn::GetAtt"]
    logical_id = target[0] if isinstance(target, list) else str(target).split(".")[0]
    alarm = ctx.template.resources.get(str(logical_id))
    if alarm is None or alarm.type not in ALARM_TYPES:
        return None
    name = alarm.properties.get("AlarmName")
    # CloudFormation's generated name when the template gives none: <stack>-<logicalId>-<id>.
    return str(ctx.resolver.resolve(name)) if name else ctx.physical_name(alarm, 255)
