"""Provisioning: the context provisioners share and the registry of provisioners by resource
type. The deploy engine (ftb/localcloud/deploy/apply.py) applies them in the template's
dependency order, at the start and at each hot reload.

Each provisioner creates its resource on the local endpoint (or in the local runtime, or in
the local API), then records the resource's `Ref` value and attributes so that later
resources resolve against real local values: queue URLs, table names, ARNs. A type without
a provisioner is listed once as "not emulated" and gets placeholder values, never a crash.
Adding a type is adding one decorated function in the module of its service.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftb.localcloud.apigateway.api_keys import UsagePlans
from ftb.localcloud.apigateway.models import RestApi
from ftb.localcloud.lambda_runtime import FunctionSpec, LambdaRuntime
from ftb.localcloud.targets import target_matches
from ftb.localcloud.template import (
    Resolver,
    Resource,
    StackContext,
    Template,
)


class ProvisionError(Exception):
    """A resource the local cloud emulates could not be created (names the resource)."""


@dataclass(frozen=True)
class EnvOverride:
    """`--set-env TARGET:KEY=VALUE`: TARGET is a function name, logical id, part of a name, or *."""

    target: str
    key: str
    value: str

    @classmethod
    def parse(cls, text: str) -> EnvOverride:
        target, sep, assignment = text.partition(":")
        key, eq, value = assignment.partition("=")
        if not sep or not eq or not target or not key:
            raise ValueError(
                f"{text!r}: expected FUNCTION:KEY=VALUE (e.g. process-task:FAILURE_RATE=0)"
            )
        return cls(target=target, key=key, value=value)

    def matches(self, name: str, logical_id: str) -> bool:
        return target_matches(self.target, name, logical_id)


@dataclass(frozen=True)
class Queue:
    logical_id: str
    name: str
    url: str
    arn: str


@dataclass(frozen=True)
class EventSourceMapping:
    logical_id: str
    uuid: str
    queue: Queue
    function_name: str
    batch_size: int
    batching_window_seconds: int
    report_batch_item_failures: bool
    maximum_concurrency: int | None
    enabled: bool


@dataclass
class LocalStack:
    """What was provisioned: the pollers, the API, the outputs and the state file read this."""

    queues: dict[str, Queue] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)
    state_machines: dict[str, str] = field(default_factory=dict)
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    log_groups: dict[str, str] = field(default_factory=dict)
    event_source_mappings: list[EventSourceMapping] = field(default_factory=list)
    rest_apis: dict[str, RestApi] = field(default_factory=dict)
    usage_plans: UsagePlans = field(default_factory=UsagePlans)  # API keys and their plans
    not_emulated: dict[str, list[str]] = field(default_factory=dict)
    # AWS::FIS::ExperimentTemplate (ftb/localcloud/fis): what `ftb chaos` runs locally.
    experiment_templates: list[Any] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def queue_by_arn(self, arn: str) -> Queue | None:
        return next((queue for queue in self.queues.values() if queue.arn == arn), None)


@dataclass
class ProvisionContext:
    template: Template
    resolver: Resolver
    clients: Any  # ftb.localcloud.local.Clients: boto3 clients for the local endpoint
    runtime: LambdaRuntime
    work_dir: Path  # where inline code and zipped assets are unpacked
    env_overrides: list[EnvOverride] = field(default_factory=list)
    localize: Callable[[str], str] = lambda text: text  # execute-api URLs -> the local API
    stack: LocalStack = field(default_factory=LocalStack)

    @property
    def context(self) -> StackContext:
        return self.resolver.context

    def physical_name(self, resource: Resource, limit: int, suffix: str = "") -> str:
        """CloudFormation's `<stack>-<logicalId>` name, minus its random part (stable restarts)."""
        base = f"{self.context.stack_name}-{resource.logical_id}"
        return base[: limit - len(suffix)] + suffix

    def arn(self, service: str, resource: str, *, region: bool = True) -> str:
        where = self.context.region if region else ""
        return (
            f"arn:{self.context.partition}:{service}:{where}:{self.context.account_id}:{resource}"
        )


Provisioner = Callable[[ProvisionContext, Resource, dict[str, Any]], None]
PROVISIONERS: dict[str, Provisioner] = {}
# Resource types that only exist for the toolchain: not worth listing as "not emulated".
SILENT_TYPES = {"AWS::CDK::Metadata"}


def provisioner(*types: str) -> Callable[[Provisioner], Provisioner]:
    def register(function: Provisioner) -> Provisioner:
        for resource_type in types:
            PROVISIONERS[resource_type] = function
        return function

    return register


def unused_overrides(ctx: ProvisionContext) -> str:
    """The `--set-env` overrides that match none of the provisioned functions ("" if none)."""
    unused = [
        override
        for override in ctx.env_overrides
        if not any(
            override.matches(spec.name, logical_id)
            for logical_id, spec in ctx.stack.functions.items()
        )
    ]
    return ", ".join(f"{o.target}:{o.key}" for o in unused)


# -- resources the local cloud does not emulate ----------------------------------------------


def placeholder(ctx: ProvisionContext, resource: Resource) -> None:
    """A name and ARN-shaped attributes, so that references to it still resolve."""
    if resource.type not in SILENT_TYPES:
        ctx.stack.not_emulated.setdefault(resource.type, []).append(resource.logical_id)
    name = ctx.physical_name(resource, 64)
    parts = resource.type.split("::")
    service = parts[1].lower() if len(parts) > 1 else "unknown"
    kind = parts[2].lower() if len(parts) > 2 else "resource"
    if service == "iam":
        arn = ctx.arn("iam", f"{kind}/{name}", region=False)
    elif service == "sns" and kind == "topic":
        arn = ctx.arn("sns", name)
    else:
        arn = ctx.arn(service, f"{kind}/{name}")
    ref = arn if resource.type in {"AWS::SNS::Topic", "AWS::SNS::Subscription"} else name
    ctx.resolver.set_resource(resource.logical_id, ref, {"Arn": arn})
    ctx.resolver.attr_fallbacks[resource.logical_id] = lambda _lid, attribute: f"{name}.{attribute}"
