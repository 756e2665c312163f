"""Experiment templates as CloudFormation declares them (`AWS::FIS::ExperimentTemplate`),
checked the way FIS checks them, and rendered in the FIS API's shapes.

The action parameters are those of AWS's FIS actions reference
(https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html#aws-lambda-actions):
- aws:lambda:invocation-error: duration, invocationPercentage (1-100, default 100),
  preventExecution (true/false);
- aws:lambda:invocation-add-delay: duration, invocationPercentage, startupDelayMilliseconds
  (0-900,000, default 1,000);
- aws:lambda:invocation-http-integration-response: duration, invocationPercentage,
  preventExecution, statusCode (000-999), contentTypeHeader;
- aws:fis:wait: duration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

INVOCATION_ERROR = "aws:lambda:invocation-error"
ADD_DELAY = "aws:lambda:invocation-add-delay"
HTTP_RESPONSE = "aws:lambda:invocation-http-integration-response"
WAIT = "aws:fis:wait"
LAMBDA_ACTIONS = frozenset({INVOCATION_ERROR, ADD_DELAY, HTTP_RESPONSE})
EMULATED_ACTIONS = LAMBDA_ACTIONS | {WAIT}
LAMBDA_FUNCTION = "aws:lambda:function"
ALARM_SOURCE = "aws:cloudwatch:alarm"

_DURATION = re.compile(
    r"^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)
_SELECTION = re.compile(r"^(ALL|COUNT\((?P<count>\d+)\)|PERCENT\((?P<percent>\d+)\))$")


class TemplateInvalid(ValueError):
    """A template FIS would refuse (the message is FIS's kind of validation message)."""


def parse_duration(text: str) -> float:
    """Seconds of an ISO 8601 duration (`PT1M`, `PT30S`, `PT1H30M`, `P1D`)."""
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if match is None or text.strip() in {"P", "PT"}:
        raise TemplateInvalid(f"duration {text!r} is not an ISO 8601 duration (e.g. PT1M)")
    parts = {key: float(value) for key, value in match.groupdict().items() if value}
    return (
        parts.get("d", 0) * 86400 + parts.get("h", 0) * 3600 + parts.get("m", 0) * 60
    ) + parts.get("s", 0)


@dataclass(frozen=True)
class Selection:
    """A target's selection mode: ALL, COUNT(n) or PERCENT(n)."""

    text: str
    count: int | None = None
    percent: int | None = None

    @classmethod
    def parse(cls, text: str) -> Selection:
        match = _SELECTION.match(str(text))
        if match is None:
            raise TemplateInvalid(f"selection mode {text!r} is not ALL, COUNT(n) or PERCENT(n)")
        count, percent = match["count"], match["percent"]
        if percent is not None and not 1 <= int(percent) <= 100:
            raise TemplateInvalid(f"selection mode {text}: the percentage must be 1-100")
        if count is not None and int(count) < 1:
            raise TemplateInvalid(f"selection mode {text}: the count must be at least 1")
        return cls(
            str(text),
            int(count) if count is not None else None,
            int(percent) if percent is not None else None,
        )

    def size(self, available: int) -> int:
        """How many of `available` resources are picked (FIS rounds a percentage down, but
        picks at least one when any is there)."""
        if self.count is not None:
            return min(self.count, available)
        if self.percent is not None:
            return min(available, max(1 if available else 0, available * self.percent // 100))
        return available


@dataclass(frozen=True)
class TargetSpec:
    name: str
    resource_type: str
    selection: Selection
    resource_arns: tuple[str, ...] = ()
    resource_tags: dict[str, str] = field(default_factory=dict)
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    parameters: dict[str, str] = field(default_factory=dict)

    def to_api(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "resourceType": self.resource_type,
            "selectionMode": self.selection.text,
        }
        if self.resource_arns:
            document["resourceArns"] = list(self.resource_arns)
        if self.resource_tags:
            document["resourceTags"] = dict(self.resource_tags)
        if self.filters:
            document["filters"] = [
                {"path": path, "values": list(values)} for path, values in self.filters
            ]
        if self.parameters:
            document["parameters"] = dict(self.parameters)
        return document


@dataclass(frozen=True)
class ActionSpec:
    name: str
    action_id: str
    parameters: dict[str, str]
    targets: dict[str, str]  # "Functions" -> target name
    start_after: tuple[str, ...] = ()
    description: str | None = None

    @property
    def duration_seconds(self) -> float:
        return parse_duration(self.parameters["duration"])

    @property
    def percentage(self) -> int:
        return int(self.parameters.get("invocationPercentage", "100"))

    @property
    def prevent_execution(self) -> bool:
        return self.parameters.get("preventExecution", "false").lower() == "true"

    def to_api(self) -> dict[str, Any]:
        document: dict[str, Any] = {"actionId": self.action_id}
        if self.description:
            document["description"] = self.description
        if self.parameters:
            document["parameters"] = dict(self.parameters)
        if self.targets:
            document["targets"] = dict(self.targets)
        if self.start_after:
            document["startAfter"] = list(self.start_after)
        return document


@dataclass(frozen=True)
class ExperimentTemplate:
    id: str
    arn: str
    logical_id: str
    description: str
    role_arn: str
    targets: dict[str, TargetSpec]
    actions: dict[str, ActionSpec]
    stop_conditions: tuple[tuple[str, str | None], ...]  # (source, value)
    tags: dict[str, str]
    created: float
    log_configuration: dict[str, Any] | None = None
    experiment_options: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        """What `ftb chaos run NAME` names a template by: its Name tag, else its logical id."""
        return self.tags.get("Name") or self.logical_id

    @property
    def unemulated_actions(self) -> list[str]:
        return sorted(
            {a.action_id for a in self.actions.values() if a.action_id not in EMULATED_ACTIONS}
        )

    def to_api(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "id": self.id,
            "arn": self.arn,
            "description": self.description,
            "targets": {name: target.to_api() for name, target in self.targets.items()},
            "actions": {name: action.to_api() for name, action in self.actions.items()},
            "stopConditions": [
                {"source": source, **({"value": value} if value else {})}
                for source, value in self.stop_conditions
            ],
            "creationTime": self.created,
            "lastUpdateTime": self.created,
            "roleArn": self.role_arn,
            "tags": dict(self.tags),
        }
        if self.log_configuration:
            document["logConfiguration"] = self.log_configuration
        if self.experiment_options:
            document["experimentOptions"] = self.experiment_options
        return document

    def summary(self) -> dict[str, Any]:
        """ListExperimentTemplates' ExperimentTemplateSummary."""
        return {
            "id": self.id,
            "arn": self.arn,
            "description": self.description,
            "creationTime": self.created,
            "lastUpdateTime": self.created,
            "tags": dict(self.tags),
        }


# -- from CloudFormation's properties -------------------------------------------------------


def from_properties(
    props: dict[str, Any], *, template_id: str, arn: str, logical_id: str, created: float
) -> ExperimentTemplate:
    """The template of resolved `AWS::FIS::ExperimentTemplate` properties; TemplateInvalid
    when FIS would refuse it (CloudFormation would then fail the deployment)."""
    for required in ("Description", "RoleArn", "StopConditions", "Targets"):
        if required not in props:
            raise TemplateInvalid(f"property {required} is required")
    targets = {name: _target(name, spec) for name, spec in (props.get("Targets") or {}).items()}
    actions = {
        name: _action(name, spec, targets) for name, spec in (props.get("Actions") or {}).items()
    }
    for action in actions.values():
        for before in action.start_after:
            if before not in actions:
                raise TemplateInvalid(f"action {action.name}: startAfter names no action {before}")
    _no_cycles(actions)
    stop_conditions = []
    for condition in props.get("StopConditions") or []:
        source = str(condition.get("Source", ""))
        value = condition.get("Value")
        if source not in {"none", ALARM_SOURCE}:
            raise TemplateInvalid(f"stop condition source {source!r} is not none or {ALARM_SOURCE}")
        if source == ALARM_SOURCE and not value:
            raise TemplateInvalid("a stop condition on an alarm needs the alarm's ARN as Value")
        stop_conditions.append((source, str(value) if value else None))
    tags = props.get("Tags") or {}
    if isinstance(tags, list):  # tolerated: the Key/Value list other resources use
        tags = {str(tag["Key"]): str(tag["Value"]) for tag in tags}
    return ExperimentTemplate(
        id=template_id,
        arn=arn,
        logical_id=logical_id,
        description=str(props["Description"]),
        role_arn=str(props["RoleArn"]),
        targets=targets,
        actions=actions,
        stop_conditions=tuple(stop_conditions),
        tags={str(key): str(value) for key, value in tags.items()},
        created=created,
        log_configuration=_camel(props.get("LogConfiguration")),
        experiment_options=_camel(props.get("ExperimentOptions")),
    )


def _camel(value: Any) -> Any:
    """CloudFormation's PascalCase keys as the API's camelCase."""
    if isinstance(value, dict):
        return {key[:1].lower() + key[1:]: _camel(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_camel(item) for item in value]
    return value


def _target(name: str, spec: dict[str, Any]) -> TargetSpec:
    resource_type = str(spec.get("ResourceType", ""))
    if not resource_type:
        raise TemplateInvalid(f"target {name}: ResourceType is required")
    arns = tuple(str(arn) for arn in spec.get("ResourceArns") or [])
    tags = {str(k): str(v) for k, v in (spec.get("ResourceTags") or {}).items()}
    if arns and tags:
        raise TemplateInvalid(f"target {name}: ResourceArns and ResourceTags are exclusive")
    filters = tuple(
        (str(item["Path"]), tuple(str(v) for v in item.get("Values") or []))
        for item in spec.get("Filters") or []
    )
    return TargetSpec(
        name=name,
        resource_type=resource_type,
        selection=Selection.parse(str(spec.get("SelectionMode", ""))),
        resource_arns=arns,
        resource_tags=tags,
        filters=filters,
        parameters={str(k): str(v) for k, v in (spec.get("Parameters") or {}).items()},
    )


def _action(name: str, spec: dict[str, Any], targets: dict[str, TargetSpec]) -> ActionSpec:
    action_id = str(spec.get("ActionId", ""))
    parameters = {str(k): _text(v) for k, v in (spec.get("Parameters") or {}).items()}
    action_targets = {str(k): str(v) for k, v in (spec.get("Targets") or {}).items()}
    for key, target in action_targets.items():
        if target not in targets:
            raise TemplateInvalid(f"action {name}: target {key} names no target {target}")
    action = ActionSpec(
        name=name,
        action_id=action_id,
        parameters=parameters,
        targets=action_targets,
        start_after=tuple(str(item) for item in spec.get("StartAfter") or []),
        description=spec.get("Description"),
    )
    if action_id in LAMBDA_ACTIONS:
        _check_lambda_action(action, targets)
    elif action_id == WAIT:
        _require(action, "duration")
        action.duration_seconds  # noqa: B018 -- parses, or raises TemplateInvalid
    return action


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _require(action: ActionSpec, parameter: str) -> str:
    if parameter not in action.parameters:
        raise TemplateInvalid(f"action {action.name} ({action.action_id}): {parameter} is required")
    return action.parameters[parameter]


def _int_in(action: ActionSpec, parameter: str, low: int, high: int) -> None:
    text = action.parameters.get(parameter)
    if text is None:
        return
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise TemplateInvalid(
            f"action {action.name} ({action.action_id}): {parameter} {text!r} is not {low}-{high}"
        )


def _check_lambda_action(action: ActionSpec, targets: dict[str, TargetSpec]) -> None:
    known = {
        INVOCATION_ERROR: {"duration", "invocationPercentage", "preventExecution"},
        ADD_DELAY: {"duration", "invocationPercentage", "startupDelayMilliseconds"},
        HTTP_RESPONSE: {
            "duration",
            "invocationPercentage",
            "preventExecution",
            "statusCode",
            "contentTypeHeader",
        },
    }[action.action_id]
    unknown = sorted(set(action.parameters) - known)
    if unknown:
        raise TemplateInvalid(
            f"action {action.name} ({action.action_id}): unknown parameter(s) {', '.join(unknown)}"
        )
    _require(action, "duration")
    action.duration_seconds  # noqa: B018 -- parses, or raises TemplateInvalid
    _int_in(action, "invocationPercentage", 1, 100)
    if action.action_id in {INVOCATION_ERROR, HTTP_RESPONSE}:
        prevent = _require(action, "preventExecution").lower()
        if prevent not in {"true", "false"}:
            raise TemplateInvalid(f"action {action.name}: preventExecution must be true or false")
    if action.action_id == ADD_DELAY:
        _int_in(action, "startupDelayMilliseconds", 0, 900_000)
    if action.action_id == HTTP_RESPONSE:
        _require(action, "statusCode")
        _require(action, "contentTypeHeader")
        _int_in(action, "statusCode", 0, 999)
    target = action.targets.get("Functions")
    if target is None or set(action.targets) != {"Functions"}:
        raise TemplateInvalid(f"action {action.name}: its one target key is Functions")
    if targets[target].resource_type != LAMBDA_FUNCTION:
        raise TemplateInvalid(
            f"action {action.name}: target {target} is not of type {LAMBDA_FUNCTION}"
        )


def _no_cycles(actions: dict[str, ActionSpec]) -> None:
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in path:
            raise TemplateInvalid(f"startAfter forms a cycle: {' -> '.join((*path, name))}")
        if name in done:
            return
        for before in actions[name].start_after:
            visit(before, (*path, name))
        done.add(name)

    for name in actions:
        visit(name, ())
