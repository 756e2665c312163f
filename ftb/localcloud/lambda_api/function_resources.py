"""What the template says about each function beyond its configuration: its tags and the
statements of its resource-based policy (`AWS::Lambda::Permission`).

Tags: the function's `Tags` plus the ones CloudFormation adds to every resource it creates
(`aws:cloudformation:stack-name`, `aws:cloudformation:stack-id`,
`aws:cloudformation:logical-id`; CloudFormation user guide, "Resource tag").

Policy: each permission is rendered the way Lambda's AddPermission writes it into the policy
GetPolicy returns (Lambda developer guide, "Viewing resource-based IAM policies in Lambda"):
an account id principal becomes `{"AWS": "arn:aws:iam::<id>:root"}`, a service principal
`{"Service": ...}`; `SourceArn` an `ArnLike` condition on `AWS:SourceArn`, `SourceAccount` a
`StringEquals` on `AWS:SourceAccount`, `PrincipalOrgID` on `aws:PrincipalOrgID`,
`EventSourceToken` on `lambda:EventSourceToken`, `FunctionUrlAuthType` on
`lambda:FunctionUrlAuthType`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ftb.localcloud.lambda_runtime import FunctionSpec
from ftb.localcloud.lambda_runtime.runtime import parse_function_name
from ftb.localcloud.template import Resolver, Template

_ACCOUNT = re.compile(r"^\d{12}$")


@dataclass
class FunctionResources:
    """Per function (physical name): its tags, its execution role's ARN and its policy
    statements, in template order."""

    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    statements: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def principal(value: str, partition: str = "aws") -> Any:
    if value == "*":
        return "*"
    if _ACCOUNT.fullmatch(value):
        return {"AWS": f"arn:{partition}:iam::{value}:root"}
    if value.startswith("arn:"):
        return {"AWS": value}
    return {"Service": value}


def statement(sid: str, function_arn: str, props: dict[str, Any]) -> dict[str, Any]:
    """One policy statement of an `AWS::Lambda::Permission`'s (resolved) properties."""
    rendered: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": principal(str(props.get("Principal", ""))),
        "Action": str(props.get("Action", "lambda:InvokeFunction")),
        "Resource": function_arn,
    }
    condition: dict[str, dict[str, str]] = {}
    equals = {
        "SourceAccount": "AWS:SourceAccount",
        "PrincipalOrgID": "aws:PrincipalOrgID",
        "EventSourceToken": "lambda:EventSourceToken",
        "FunctionUrlAuthType": "lambda:FunctionUrlAuthType",
    }
    for prop, key in equals.items():
        if props.get(prop):
            condition.setdefault("StringEquals", {})[key] = str(props[prop])
    if props.get("SourceArn"):
        condition["ArnLike"] = {"AWS:SourceArn": str(props["SourceArn"])}
    if condition:
        rendered["Condition"] = condition
    return rendered


def function_resources(
    template: Template, resolver: Resolver, functions: dict[str, FunctionSpec]
) -> FunctionResources:
    """Tags and policy statements of the provisioned `functions` (logical id -> spec)."""
    out = FunctionResources()
    context = resolver.context
    by_name = {spec.name: spec for spec in functions.values()}
    for logical_id, spec in functions.items():
        raw_tags = template.resources[logical_id].properties.get("Tags") or []
        tags = {
            "aws:cloudformation:stack-name": context.stack_name,
            "aws:cloudformation:stack-id": context.stack_id,
            "aws:cloudformation:logical-id": logical_id,
        }
        for tag in resolver.resolve(raw_tags):
            if isinstance(tag, dict) and "Key" in tag:
                tags[str(tag["Key"])] = str(tag.get("Value", ""))
        out.tags[spec.name] = tags
        role = resolver.resolve(template.resources[logical_id].properties.get("Role"))
        if isinstance(role, str) and role:
            out.roles[spec.name] = role
    for resource in template.resources.values():
        if resource.type != "AWS::Lambda::Permission" or not resolver.is_active(resource):
            continue
        props = resolver.resolve(resource.properties)
        name, qualifier = parse_function_name(str(props.get("FunctionName", "")))
        target = by_name.get(name)
        if target is None:
            continue
        arn = f"{target.arn}:{qualifier}" if qualifier else target.arn
        sid = str(resolver.refs.get(resource.logical_id) or resource.logical_id)
        out.statements.setdefault(target.name, []).append(statement(sid, arn, props))
    return out
