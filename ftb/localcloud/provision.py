"""Provisioning: one small provisioner per resource type, applied in the template's order.

Each provisioner creates its resource on the local endpoint (or in the local runtime, or in
the local API), then records the resource's `Ref` value and attributes so that later
resources resolve against real local values: queue URLs, table names, ARNs. A type without a
provisioner is listed once as "not emulated" and gets placeholder values, never a crash.
Adding a type is adding one decorated function.
"""

from __future__ import annotations

import contextlib
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftb.localcloud.api_gateway import (
    ApiMethod,
    ApiResource,
    GatewayResponse,
    MockIntegration,
    RestApi,
)
from ftb.localcloud.lambda_runtime import FunctionSpec, LambdaRuntime
from ftb.localcloud.template import (
    Resolver,
    Resource,
    StackContext,
    Template,
    TemplateError,
    dependency_order,
    stable_id,
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
        if self.target in ("*", name, logical_id):
            return True
        wanted = _normalized(self.target)
        return bool(wanted) and (wanted in _normalized(name) or wanted in _normalized(logical_id))


def _normalized(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


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
    not_emulated: dict[str, list[str]] = field(default_factory=dict)
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


def provision(ctx: ProvisionContext) -> LocalStack:
    """Provision every resource of the template in dependency order."""
    for resource in dependency_order(ctx.template):
        try:
            if not ctx.resolver.is_active(resource):
                continue
            handler = PROVISIONERS.get(resource.type)
            if handler is None:
                _placeholder(ctx, resource)
                continue
            properties = ctx.resolver.resolve(resource.properties)
            handler(ctx, resource, properties)
        except (TemplateError, ProvisionError):
            raise
        except Exception as error:
            raise ProvisionError(f"{resource.logical_id} ({resource.type}): {error}") from error
    unused = [
        override
        for override in ctx.env_overrides
        if not any(
            override.matches(spec.name, logical_id)
            for logical_id, spec in ctx.stack.functions.items()
        )
    ]
    if unused:
        names = ", ".join(f"{o.target}:{o.key}" for o in unused)
        raise ProvisionError(f"--set-env matched no function: {names}")
    ctx.stack.warnings.extend(ctx.resolver.warnings)
    return ctx.stack


# -- resources the local cloud does not emulate ----------------------------------------------


def _placeholder(ctx: ProvisionContext, resource: Resource) -> None:
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


# -- SQS ---------------------------------------------------------------------------------------

_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
)


@provisioner("AWS::SQS::Queue")
def _queue(ctx: ProvisionContext, resource: Resource, props: dict[str, Any]) -> None:
    fifo = str(props.get("FifoQueue", "false")).lower() == "true"
    name = props.get("QueueName") or ctx.physical_name(resource, 80, ".fifo" if fifo else "")
    attributes = {key: _attr_text(props[key]) for key in _QUEUE_ATTRIBUTES if key in props}
    for key in ("RedrivePolicy", "RedriveAllowPolicy"):
        if key in props:
            value = props[key]
            attributes[key] = value if isinstance(value, str) else json.dumps(value)
    url = ctx.clients.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = ctx.clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    ctx.stack.queues[resource.logical_id] = Queue(resource.logical_id, name, url, arn)
    ctx.resolver.set_resource(
        resource.logical_id, url, {"Arn": arn, "QueueName": name, "QueueUrl": url}
    )


def _attr_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


# -- DynamoDB ----------------------------------------------------------------------------------


@provisioner("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")
def _table(ctx: ProvisionContext, resource: Resource, props: dict[str, Any]) -> None:
    name = props.get("TableName") or ctx.physical_name(resource, 255)
    # Capacity settings mean nothing locally: every table is on-demand.
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": "PAY_PER_REQUEST",
    }
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if props.get(key):
            request[key] = [
                {k: index[k] for k in ("IndexName", "KeySchema", "Projection") if k in index}
                for index in props[key]
            ]
    stream = props.get("StreamSpecification")
    if stream and stream.get("StreamViewType"):
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": stream["StreamViewType"],
        }
    dynamodb = ctx.clients.dynamodb
    try:
        description = dynamodb.create_table(**request)["TableDescription"]
    except dynamodb.exceptions.ResourceInUseException:
        description = dynamodb.describe_table(TableName=name)["Table"]
    ttl = props.get("TimeToLiveSpecification") or {}
    if ttl.get("AttributeName") and str(ttl.get("Enabled", True)).lower() == "true":
        dynamodb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
        )
    attrs = {
        "Arn": description["TableArn"],
        "TableId": description.get("TableId", name),
        "StreamArn": description.get("LatestStreamArn", f"{description['TableArn']}/stream/local"),
    }
    ctx.stack.tables[resource.logical_id] = name
    ctx.resolver.set_resource(resource.logical_id, name, attrs)


# -- CloudWatch Logs ---------------------------------------------------------------------------


def ensure_log_group(ctx: ProvisionContext, name: str, retention_days: Any = None) -> str:
    logs = ctx.clients.logs
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=name)
    if retention_days:
        logs.put_retention_policy(logGroupName=name, retentionInDays=int(retention_days))
    return ctx.arn("logs", f"log-group:{name}:*")


@provisioner("AWS::Logs::LogGroup")
def _log_group(ctx: ProvisionContext, resource: Resource, props: dict[str, Any]) -> None:
    name = props.get("LogGroupName") or ctx.physical_name(resource, 512)
    arn = ensure_log_group(ctx, name, props.get("RetentionInDays"))
    ctx.stack.log_groups[resource.logical_id] = name
    ctx.resolver.set_resource(resource.logical_id, name, {"Arn": arn})


# -- Step Functions ----------------------------------------------------------------------------


@provisioner("AWS::StepFunctions::StateMachine")
def _state_machine(ctx: ProvisionContext, resource: Resource, props: dict[str, Any]) -> None:
    name = props.get("StateMachineName") or ctx.physical_name(resource, 80)
    definition = _definition(ctx, props)
    for key, value in (props.get("DefinitionSubstitutions") or {}).items():
        text = value if isinstance(value, str) else json.dumps(value)
        definition = definition.replace("${" + key + "}", text)
    request: dict[str, Any] = {
        "name": name,
        "definition": definition,
        "roleArn": props.get("RoleArn") or ctx.arn("iam", f"role/{name}-role", region=False),
        "type": props.get("StateMachineType", "STANDARD"),
    }
    for source, target in (
        ("LoggingConfiguration", "loggingConfiguration"),
        ("TracingConfiguration", "tracingConfiguration"),
    ):
        if props.get(source):
            request[target] = _camel_keys(props[source])
    arn = ctx.clients.stepfunctions.create_state_machine(**request)["stateMachineArn"]
    ctx.stack.state_machines[resource.logical_id] = arn
    ctx.resolver.set_resource(
        resource.logical_id,
        arn,
        {"Arn": arn, "Name": name, "StateMachineRevisionId": "INITIAL"},
    )


def _definition(ctx: ProvisionContext, props: dict[str, Any]) -> str:
    if "DefinitionString" in props:
        return str(props["DefinitionString"])
    if "Definition" in props:
        return json.dumps(props["Definition"])
    location = props.get("DefinitionS3Location")
    if location:
        # An S3 asset (`DefinitionBody.from_file`): the key is the asset hash plus extension.
        asset_hash = str(location.get("Key", "")).split(".")[0]
        path = ctx.template.asset_path(asset_hash)
        if path is None or not path.is_file():
            raise ProvisionError(
                f"definition asset {location.get('Key')} not in the cloud assembly"
            )
        return path.read_text(encoding="utf-8")
    raise ProvisionError("state machine without a definition")


def _camel_keys(value: Any) -> Any:
    """CloudFormation's PascalCase properties -> the Step Functions API's camelCase."""
    if isinstance(value, list):
        return [_camel_keys(item) for item in value]
    if isinstance(value, dict):
        return {key[:1].lower() + key[1:]: _camel_keys(item) for key, item in value.items()}
    return value


# -- Lambda ------------------------------------------------------------------------------------


@provisioner("AWS::Lambda::Function")
def _function(ctx: ProvisionContext, resource: Resource, props: dict[str, Any]) -> None:
    name = props.get("FunctionName") or ctx.physical_name(resource, 64)
    arn = ctx.arn("lambda", f"function:{name}")
    ctx.resolver.set_resource(resource.logical_id, name, {"Arn": arn})
    runtime_name = str(props.get("Runtime", ""))
    if props.get("PackageType") == "Image" or not runtime_name.startswith("python"):
        ctx.stack.warnings.append(
            f"function {name}: runtime {runtime_name or 'container image'} is not emulated "
            "(only Python runtimes run locally); it cannot be invoked"
        )
        return
    if props.get("Layers"):
        ctx.stack.not_emulated.setdefault("Lambda layers (packages come from .venv)", []).append(
            name
        )
    environment = {
        key: ctx.localize(_env_text(value))
        for key, value in ((props.get("Environment") or {}).get("Variables") or {}).items()
    }
    for override in ctx.env_overrides:
        if override.matches(name, resource.logical_id):
            environment[override.key] = override.value
    log_group = (props.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{name}"
    ensure_log_group(ctx, log_group)
    reserved = props.get("ReservedConcurrentExecutions")
    spec = FunctionSpec(
        name=name,
        arn=arn,
        code_dir=_code_dir(ctx, resource, props, name),
        handler=str(props.get("Handler", "index.handler")),
        environment=environment,
        timeout_seconds=float(props.get("Timeout", 3)),
        memory_mb=int(props.get("MemorySize", 128)),
        reserved_concurrency=int(reserved) if reserved is not None else None,
        log_group=log_group,
    )
    ctx.runtime.register(spec)
    ctx.stack.functions[resource.logical_id] = spec


def _env_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _code_dir(ctx: ProvisionContext, resource: Resource, props: dict[str, Any], name: str) -> Path:
    code = props.get("Code") or {}
    if "ZipFile" in code:  # inline code: Lambda stores it as index.py
        target = ctx.work_dir / "inline" / name
        target.mkdir(parents=True, exist_ok=True)
        (target / "index.py").write_text(str(code["ZipFile"]), encoding="utf-8")
        return target
    path: Path | None = None
    if resource.metadata.get("aws:asset:path"):
        path = ctx.template.asset_root / str(resource.metadata["aws:asset:path"])
    elif code.get("S3Key"):
        path = ctx.template.asset_path(str(code["S3Key"]).split(".")[0])
    if path is None or not path.exists():
        raise ProvisionError(f"code of function {name} not found in the cloud assembly")
    if path.is_dir():
        return path
    target = ctx.work_dir / "assets" / path.name
    if not target.exists():
        with zipfile.ZipFile(path) as archive:
            archive.extractall(target)
    return target


@provisioner("AWS::Lambda::EventSourceMapping")
def _event_source_mapping(ctx: ProvisionContext, resource: Resource, props: dict[str, Any]) -> None:
    uuid = _uuid(ctx.context.stack_name, resource.logical_id)
    ctx.resolver.set_resource(resource.logical_id, uuid, {"Id": uuid, "EventSourceMappingArn": ""})
    source = str(props.get("EventSourceArn", ""))
    queue = ctx.stack.queue_by_arn(source)
    if queue is None:
        ctx.stack.not_emulated.setdefault("event sources other than SQS", []).append(
            resource.logical_id
        )
        return
    if props.get("FilterCriteria"):
        ctx.stack.warnings.append(
            f"{resource.logical_id}: FilterCriteria is not emulated (every message is delivered)"
        )
    function = str(props["FunctionName"])
    maximum = (props.get("ScalingConfig") or {}).get("MaximumConcurrency")
    ctx.stack.event_source_mappings.append(
        EventSourceMapping(
            logical_id=resource.logical_id,
            uuid=uuid,
            queue=queue,
            function_name=function.split(":function:")[-1].split(":")[0],
            batch_size=int(props.get("BatchSize", 10)),
            batching_window_seconds=int(props.get("MaximumBatchingWindowInSeconds", 0)),
            report_batch_item_failures="ReportBatchItemFailures"
            in (props.get("FunctionResponseTypes") or []),
            maximum_concurrency=int(maximum) if maximum is not None else None,
            enabled=str(props.get("Enabled", True)).lower() == "true",
        )
    )


def _uuid(*parts: str) -> str:
    raw = stable_id(*parts, length=32)
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:32]}"


# -- API Gateway (REST) ------------------------------------------------------------------------


def _rest_api(ctx: ProvisionContext, api_id: Any) -> RestApi:
    api = next((a for a in ctx.stack.rest_apis.values() if a.id == api_id), None)
    if api is None:
        raise ProvisionError(f"unknown RestApiId {api_id}")
    return api


@provisioner("AWS::ApiGateway::RestApi")
def _api(ctx: ProvisionContext, resource: Resource, props: dict[str, Any]) -> None:
    api_id = stable_id(ctx.context.stack_name, resource.logical_id)
    root_id = stable_id(api_id, "/")
    if props.get("Body") or props.get("BodyS3Location"):
        ctx.stack.warnings.append(
            f"{resource.logical_id}: an OpenAPI body is not emulated; define resources and methods"
        )
    api = RestApi(
        id=api_id,
        name=str(props.get("Name", resource.logical_id)),
        logical_id=resource.logical_id,
        root_id=root_id,
        binary_media_types=list(props.get("BinaryMediaTypes") or []),
    )
    api.resources[root_id] = ApiResource(id=root_id, parent_id=None, path_part="")
    ctx.stack.rest_apis[resource.logical_id] = api
    ctx.resolver.set_resource(
        resource.logical_id, api_id, {"RestApiId": api_id, "RootResourceId": root_id}
    )


@provisioner("AWS::ApiGateway::Resource")
def _api_resource(ctx: ProvisionContext, resource: Resource, props: dict[str, Any]) -> None:
    api = _rest_api(ctx, props["RestApiId"])
    resource_id = stable_id(api.id, resource.logical_id)
    api.resources[resource_id] = ApiResource(
        id=resource_id, parent_id=str(props["ParentId"]), path_part=str(props["PathPart"])
    )
    ctx.resolver.set_resource(resource.logical_id, resource_id, {"ResourceId": resource_id})


@provisioner("AWS::ApiGateway::Method")
def _api_method(ctx: ProvisionContext, resource: Resource, props: dict[str, Any]) -> None:
    api = _rest_api(ctx, props["RestApiId"])
    integration = props.get("Integration") or {}
    kind = str(integration.get("Type", "")).upper()
    function = None
    mock = None
    if kind == "AWS_PROXY":
        match = re.search(r"functions/(.+?)/invocations", str(integration.get("Uri", "")))
        function = match.group(1) if match else None
    elif kind == "MOCK":
        responses = integration.get("IntegrationResponses") or [{}]
        first = responses[0]
        mock = MockIntegration(
            status=int(first.get("StatusCode", 200)),
            headers={
                key.rsplit(".", 1)[-1]: str(value).strip("'")
                for key, value in (first.get("ResponseParameters") or {}).items()
            },
            body=str((first.get("ResponseTemplates") or {}).get("application/json", "")),
        )
    else:
        ctx.stack.not_emulated.setdefault(f"API integrations of type {kind or '?'}", []).append(
            resource.logical_id
        )
    method = ApiMethod(
        http_method=str(props["HttpMethod"]).upper(),
        resource_id=str(props["ResourceId"]),
        function=function,
        mock=mock,
        validator_id=props.get("RequestValidatorId"),
        request_models={
            str(k).lower(): str(v) for k, v in (props.get("RequestModels") or {}).items()
        },
        request_parameters={
            str(k): bool(v) for k, v in (props.get("RequestParameters") or {}).items()
        },
        authorization=str(props.get("AuthorizationType", "NONE")).upper(),
        api_key_required=bool(props.get("ApiKeyRequired", False)),
    )
    if method.authorization not in ("NONE", "AWS_IAM") or method.api_key_required:
        ctx.stack.warnings.append(
            f"{resource.logical_id}: authorization {method.authorization} is not enforced locally"
        )
    api.methods[(method.resource_id, method.http_method)] = method
    ctx.resolver.set_resource(resource.logical_id, stable_id(api.id, resource.logical_id), {})


@provisioner("AWS::ApiGateway::RequestValidator")
def _api_validator(ctx: ProvisionContext, resource: Resource, props: dict[str, Any]) -> None:
    api = _rest_api(ctx, props["RestApiId"])
    validator_id = stable_id(api.id, resource.logical_id, length=6)
    api.validators[validator_id] = (
        bool(props.get("ValidateRequestBody", False)),
        bool(props.get("ValidateRequestParameters", False)),
    )
    ctx.resolver.set_resource(
        resource.logical_id, validator_id, {"RequestValidatorId": validator_id}
    )


@provisioner("AWS::ApiGateway::Model")
def _api_model(ctx: ProvisionContext, resource: Resource, props: dict[str, Any]) -> None:
    api = _rest_api(ctx, props["RestApiId"])
    name = str(props.get("Name") or resource.logical_id)
    schema = props.get("Schema") or {}
    api.models[name] = json.loads(schema) if isinstance(schema, str) else schema
    ctx.resolver.set_resource(resource.logical_id, name, {})


@provisioner("AWS::ApiGateway::Deployment")
def _api_deployment(ctx: ProvisionContext, resource: Resource, props: dict[str, Any]) -> None:
    api = _rest_api(ctx, props["RestApiId"])
    deployment_id = stable_id(api.id, resource.logical_id, length=6)
    if props.get("StageName"):
        description = props.get("StageDescription") or {}
        api.stages[str(props["StageName"])] = dict(description.get("Variables") or {})
    ctx.resolver.set_resource(resource.logical_id, deployment_id, {"DeploymentId": deployment_id})


@provisioner("AWS::ApiGateway::Stage")
def _api_stage(ctx: ProvisionContext, resource: Resource, props: dict[str, Any]) -> None:
    api = _rest_api(ctx, props["RestApiId"])
    stage = str(props["StageName"])
    api.stages[stage] = {str(k): str(v) for k, v in (props.get("Variables") or {}).items()}
    if props.get("MethodSettings") or props.get("AccessLogSetting"):
        ctx.stack.not_emulated.setdefault("API stage throttling and access logs", []).append(
            resource.logical_id
        )
    ctx.resolver.set_resource(resource.logical_id, stage, {})


@provisioner("AWS::ApiGateway::GatewayResponse")
def _api_gateway_response(ctx: ProvisionContext, resource: Resource, props: dict[str, Any]) -> None:
    api = _rest_api(ctx, props["RestApiId"])
    response_type = str(props["ResponseType"])
    api.gateway_responses[response_type] = GatewayResponse(
        status=int(props["StatusCode"]) if props.get("StatusCode") else None,
        headers={
            key.rsplit(".", 1)[-1]: str(value).strip("'")
            for key, value in (props.get("ResponseParameters") or {}).items()
        },
        templates={
            str(k).lower(): str(v) for k, v in (props.get("ResponseTemplates") or {}).items()
        },
    )
    ctx.resolver.set_resource(resource.logical_id, stable_id(api.id, resource.logical_id), {})
