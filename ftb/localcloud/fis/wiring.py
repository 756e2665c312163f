"""What the local cloud hands the FIS service: its functions as FIS resolves targets, and a
reader of alarm states through CloudWatch's API on the local endpoint (whoever answers
DescribeAlarms there: the stop conditions see only what a FIS experiment on AWS would)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ftb.localcloud.fis.experiment import AlarmStates, FunctionTarget
from ftb.localcloud.template import Resolver

_PAGE = 100  # DescribeAlarms takes at most 100 names


def function_targets(resolver: Resolver, functions: dict[str, Any]) -> list[FunctionTarget]:
    """The stack's functions (logical id -> FunctionSpec) with their tags and configuration."""
    targets = []
    for logical_id, spec in functions.items():
        resource = resolver.template.resources.get(logical_id)
        raw = resource.properties.get("Tags") if resource is not None else None
        try:
            tags = resolver.resolve(raw) if raw else []
        except Exception:  # a tag of an unemulated value: targets by ARN still work
            tags = []
        runtime = resource.properties.get("Runtime") if resource is not None else None
        targets.append(
            FunctionTarget(
                arn=spec.arn,
                name=spec.name,
                tags={str(t["Key"]): str(t["Value"]) for t in tags if isinstance(t, dict)},
                configuration={
                    "FunctionName": spec.name,
                    "FunctionArn": spec.arn,
                    "Handler": spec.handler,
                    "Runtime": str(runtime or ""),
                    "MemorySize": spec.memory_mb,
                    "Timeout": spec.timeout_seconds,
                },
            )
        )
    return targets


def alarm_reader(make_cloudwatch: Callable[[], Any]) -> AlarmStates:
    """alarm names -> StateValue, by DescribeAlarms (metric and composite alarms)."""
    client: list[Any] = []

    def states(names: list[str]) -> dict[str, str]:
        if not client:
            client.append(make_cloudwatch())
        found: dict[str, str] = {}
        for start in range(0, len(names), _PAGE):
            answer = client[0].describe_alarms(
                AlarmNames=names[start : start + _PAGE],
                AlarmTypes=["MetricAlarm", "CompositeAlarm"],
            )
            for alarm in answer.get("MetricAlarms", []) + answer.get("CompositeAlarms", []):
                found[alarm["AlarmName"]] = alarm["StateValue"]
        return found

    return states
