"""The local stack as CloudFormation describes a stack: status, parameters, outputs with their
local values, tags, and every resource with its physical id (placeholders included)."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ftb.localcloud.template import Resolver, Template

CREATE_COMPLETE = "CREATE_COMPLETE"


@dataclass(frozen=True)
class StackResource:
    logical_id: str
    physical_id: str
    type: str
    status: str
    # Set for a type the local cloud does not emulate: its physical id is a placeholder.
    status_reason: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StackDescription:
    name: str
    stack_id: str
    status: str
    created_at: datetime
    template_body: str
    description: str | None
    parameters: list[dict[str, str]]  # ParameterKey, ParameterValue, ResolvedValue?
    outputs: list[dict[str, str]]  # OutputKey, OutputValue, Description?, ExportName?
    tags: dict[str, str]
    resources: list[StackResource]
    termination_protection: bool = False

    def resource(self, logical_id: str) -> StackResource | None:
        return next((r for r in self.resources if r.logical_id == logical_id), None)


def describe_stack(
    template: Template,
    resolver: Resolver,
    outputs: dict[str, Any],
    not_emulated: dict[str, list[str]],
    created_at: datetime,
) -> StackDescription:
    """The stack of a provisioned `template`; `outputs` are the local values of its outputs."""
    placeholders = {lid for ids in not_emulated.values() for lid in ids}
    resources = []
    for resource in template.resources.values():
        if not resolver.is_active(resource):
            continue  # a resource whose Condition is false is not created
        physical = resolver.refs.get(resource.logical_id)
        unemulated = resource.logical_id in placeholders or physical is None
        resources.append(
            StackResource(
                logical_id=resource.logical_id,
                physical_id=_text(physical) if physical is not None else resource.logical_id,
                type=resource.type,
                status=CREATE_COMPLETE,
                status_reason=(
                    "Not emulated by the local cloud: the physical id is a placeholder"
                    if unemulated
                    else None
                ),
                metadata=resource.metadata,
            )
        )
    described_outputs = []
    for key, value in outputs.items():
        entry = {"OutputKey": key, "OutputValue": _text(value)}
        declared = template.outputs.get(key) or {}
        if isinstance(declared.get("Description"), str):
            entry["Description"] = declared["Description"]
        export = declared.get("Export", {}).get("Name") if isinstance(declared, dict) else None
        if export is not None:
            # An export name the local cloud cannot resolve is left out.
            with contextlib.suppress(Exception):
                entry["ExportName"] = _text(resolver.resolve(export))
        described_outputs.append(entry)
    body = template.body
    artifact = stack_artifact(template.path)
    return StackDescription(
        name=template.stack_name,
        stack_id=resolver.context.stack_id,
        status=CREATE_COMPLETE,
        created_at=created_at,
        template_body=template.path.read_text(encoding="utf-8"),
        description=body.get("Description") if isinstance(body.get("Description"), str) else None,
        parameters=_parameters(body.get("Parameters") or {}, resolver),
        outputs=described_outputs,
        tags=stack_tags(artifact),
        resources=resources,
        termination_protection=bool(artifact.get("terminationProtection", False)),
    )


def _parameters(declared: dict[str, Any], resolver: Resolver) -> list[dict[str, str]]:
    """Parameter values; an SSM parameter type shows the parameter's name as its value and
    what it resolved to as `ResolvedValue`, as DescribeStacks does."""
    out = []
    for name, spec in declared.items():
        if name not in resolver.parameters:
            continue
        value = _text(resolver.parameters[name])
        entry = {"ParameterKey": name, "ParameterValue": value}
        if str(spec.get("Type", "")).startswith("AWS::SSM::Parameter::Value"):
            entry["ParameterValue"] = _text(spec.get("Default", value))
            entry["ResolvedValue"] = value
        out.append(entry)
    return out


def stack_artifact(template_path: Path) -> dict[str, Any]:
    """The stack artifact's properties in the cloud assembly manifest next to the template
    (what `cdk deploy` applies besides the template: tags, termination protection)."""
    try:
        manifest = json.loads((template_path.parent / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    for artifact in (manifest.get("artifacts") or {}).values():
        props = artifact.get("properties") or {}
        if props.get("templateFile") == template_path.name:
            return dict(props)
    return {}


def stack_tags(artifact: dict[str, Any]) -> dict[str, str]:
    tags = artifact.get("tags") or {}
    return {str(k): str(v) for k, v in tags.items()} if isinstance(tags, dict) else {}


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_text(item) for item in value)
    return json.dumps(value) if isinstance(value, dict) else str(value)
