"""Lambda functions (registered with the local runtime) and SQS event source mappings."""

from __future__ import annotations

import hashlib
import json
import uuid
import zipfile
from pathlib import Path
from typing import Any

from ftb.localcloud.lambda_runtime import FunctionSpec
from ftb.localcloud.provision.context import (
    EventSourceMapping,
    ProvisionContext,
    ProvisionError,
    provisioner,
)
from ftb.localcloud.provision.logs import ensure_log_group
from ftb.localcloud.template import Resource

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
    if log_group not in ctx.stack.log_groups.values():  # the template's own: created already
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
    mapping_id = _uuid(ctx.context.stack_name, resource.logical_id)
    mapping_arn = ctx.arn("lambda", f"event-source-mapping:{mapping_id}")
    ctx.resolver.set_resource(
        resource.logical_id, mapping_id, {"Id": mapping_id, "EventSourceMappingArn": mapping_arn}
    )
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
            uuid=mapping_id,
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
    """A mapping's UUID (hex, as Lambda's), the same across restarts."""
    return str(uuid.UUID(hashlib.sha256("/".join(parts).encode()).hexdigest()[:32]))
