"""Apply a new template to the running local cloud, the way `cdk deploy --hotswap` does.

Two phases, so that a reload is applied whole or not at all:
1. reconcile: provision the new template against the running resources into a fresh
   context. What holds data (queues, tables, state machines, log groups) is adopted as it
   runs, or updated in place; what holds none (functions' specifications, event source
   mappings, API routes, placeholders) is built from the new template again. New functions'
   code is imported in a fresh worker: code that does not import stops the reload here.
2. commit: swap the functions (invocations that start afterwards run the new version,
   running ones finish on the old), update state machines and queues, restart the pollers
   of changed mappings, install the new routes, rewrite the state file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ftb import statefile
from ftb.localcloud.event_sources import SqsPoller, start_pollers
from ftb.localcloud.hot_reload.code_sources import digest
from ftb.localcloud.hot_reload.diff import (
    Action,
    Plan,
    diff_templates,
    effective_body,
    plan_changes,
)
from ftb.localcloud.lambda_runtime import FunctionSpec, LambdaServiceError
from ftb.localcloud.provision import PROVISIONERS, ProvisionContext, ProvisionError
from ftb.localcloud.provision.context import _placeholder  # the same placeholder as at start
from ftb.localcloud.provision.logs import ensure_log_group
from ftb.localcloud.provision.stepfunctions import state_machine_request
from ftb.localcloud.template import Resolver, Resource, StackContext, Template, dependency_order

if TYPE_CHECKING:
    from ftb.localcloud.local import LocalCloud

# Types that hold data: adopted as they run unless their change is applied in place.
_STATEFUL = {
    "AWS::SQS::Queue",
    "AWS::DynamoDB::Table",
    "AWS::DynamoDB::GlobalTable",
    "AWS::StepFunctions::StateMachine",
    "AWS::Logs::LogGroup",
}
# SQS's values for an attribute a template stops setting (SetQueueAttributes has no "unset").
_QUEUE_DEFAULTS = {
    "DelaySeconds": "0",
    "MaximumMessageSize": "262144",
    "MessageRetentionPeriod": "345600",
    "ReceiveMessageWaitTimeSeconds": "0",
    "VisibilityTimeout": "30",
    "RedrivePolicy": "",
    "RedriveAllowPolicy": "",
}


class ReloadError(Exception):
    """The new version cannot be applied (nothing of it was): the message says why."""


@dataclass
class Outcome:
    applied: list[str] = field(default_factory=list)  # short phrases, for the one line
    named: list[str] = field(default_factory=list)  # not applied: what and what to do


class _Capture:
    """Stands in for the runtime while reconciling: keeps the specifications it is given."""

    def __init__(self) -> None:
        self.specs: dict[str, FunctionSpec] = {}

    def register(self, spec: FunctionSpec) -> None:
        self.specs[spec.name] = spec


_DIGESTS: dict[Path, str] = {}
_DIGEST_LOCK = threading.Lock()


def code_digest(path: Path) -> str:
    """Asset directories and hot-reload copies never change once written: hashed once."""
    with _DIGEST_LOCK:
        if path not in _DIGESTS:
            _DIGESTS[path] = digest(path)
        return _DIGESTS[path]


def merge_spec(base: FunctionSpec, theirs: FunctionSpec, current: FunctionSpec) -> FunctionSpec:
    """Three-way: what the template changed (base -> theirs) on top of what runs (`current`,
    which UpdateFunctionConfiguration may have changed): a change made through the API
    survives a reload that did not touch it."""
    changes: dict[str, Any] = {}
    for spec_field in dataclasses.fields(FunctionSpec):
        name = spec_field.name
        before, after = getattr(base, name), getattr(theirs, name)
        if name == "code_dir":
            if code_digest(Path(before)) != code_digest(Path(after)):
                changes[name] = after
        elif name == "environment":
            environment = dict(current.environment)
            for key in set(before) | set(after):
                if before.get(key) != after.get(key):
                    if key in after:
                        environment[key] = after[key]
                    else:
                        environment.pop(key, None)
            changes[name] = environment
        elif before != after:
            changes[name] = after
    return dataclasses.replace(current, **changes)


def swap_functions(
    cloud: LocalCloud, specs: list[FunctionSpec], first: set[str] | None = None
) -> None:
    """Swap in new versions: one worker of each imports the new code before its function
    serves it. The functions named in `first` (those whose handler module changed: the one
    the developer waits for) are prepared and swapped first, then the others. Whole or
    nothing: when one does not import, none is swapped, or those already swapped go back to
    the version they ran (ReloadError says which did not)."""
    runtime = cloud.runtime
    assert runtime is not None
    early = [spec for spec in specs if first and spec.name in first]
    late = [spec for spec in specs if spec not in early]
    swapped: list[FunctionSpec] = []  # the versions replaced, for a rollback
    for group in (early, late):
        if not group:
            continue
        with ThreadPoolExecutor(max_workers=len(group), thread_name_prefix="hot-reload") as pool:
            prepared = list(pool.map(runtime.prepare, group))
        failures = [(pool_, error) for pool_, error in prepared if error is not None]
        if failures:
            for pool_, _ in prepared:
                runtime.discard(pool_)
            for previous in swapped:
                runtime.register(previous)
            pool_, error = failures[0]
            raise ReloadError(
                f"{_short(cloud, pool_.spec.name)} does not start: {error.get('errorType')}: "
                f"{error.get('errorMessage')}"
            )
        for pool_, _ in prepared:
            with contextlib.suppress(LambdaServiceError):  # a new function: nothing to undo
                swapped.append(runtime.get(pool_.spec.name))
            runtime.commit(pool_)


def _short(cloud: LocalCloud, name: str) -> str:
    prefix = f"{cloud.template.stack_name}-" if cloud.template else ""
    return name.removeprefix(prefix)


@dataclass
class _Reconciled:
    ctx: ProvisionContext
    plan: Plan
    template: Template
    commits: list[Callable[[], None]] = field(default_factory=list)
    adopted: set[str] = field(default_factory=set)
    named: list[str] = field(default_factory=list)


def apply_template(cloud: LocalCloud, new: Template) -> Outcome:
    """Apply the difference between the running template and `new`; ReloadError when it
    cannot be (then nothing changed)."""
    old_ctx = cloud.provision_context
    assert cloud.template is not None and old_ctx is not None and cloud.stack is not None
    diff = diff_templates(cloud.template.body, new.body)
    if diff.empty:
        return Outcome()
    plan = plan_changes(diff, set(PROVISIONERS))
    running = Template(
        path=new.path,
        body=effective_body(cloud.template.body, new.body, plan),
        stack_name=new.stack_name,
        assets=new.assets,
    )
    try:
        state = _reconcile(cloud, old_ctx, running, plan)
    except (ReloadError, ProvisionError):
        raise
    except Exception as error:  # a template the local cloud cannot run: say so, keep running
        raise ReloadError(f"the new template cannot be provisioned: {error}") from error
    outcome = Outcome(named=list(state.named))
    outcome.named += [
        f"{item.change.logical_id} ({item.change.type}): {item.what}; {item.todo}"
        for item in plan.named
    ]
    functions = _function_changes(cloud, old_ctx, state, outcome)
    swap_functions(cloud, functions)  # raises ReloadError: nothing was committed
    _commit(cloud, old_ctx, state, outcome)
    return outcome


def _reconcile(
    cloud: LocalCloud, old_ctx: ProvisionContext, running: Template, plan: Plan
) -> _Reconciled:
    options = cloud.options
    resolver = Resolver(
        running,
        StackContext(stack_name=running.stack_name, region=options.region),
        options.parameters,
    )
    ctx = ProvisionContext(
        template=running,
        resolver=resolver,
        clients=cloud.clients,
        runtime=_Capture(),  # type: ignore[arg-type]
        work_dir=old_ctx.work_dir,
        env_overrides=list(options.env_overrides),
        localize=lambda text: cloud._localize(text, ctx.stack.rest_apis),
    )
    state = _Reconciled(ctx, plan, running)
    applied = {item.change.logical_id: item.change for item in plan.applied}
    named = {item.change.logical_id for item in plan.named}
    old_resources = cloud.template.resources if cloud.template else {}
    for resource in dependency_order(running):
        if not resolver.is_active(resource):
            continue
        logical_id, kind = resource.logical_id, resource.type
        change = applied.get(logical_id)
        old = old_resources.get(logical_id)
        if logical_id in named or (kind in _STATEFUL and change is None):
            _adopt(ctx, old_ctx, logical_id)
            state.adopted.add(logical_id)
            continue
        properties = resolver.resolve(resource.properties)
        if kind in _STATEFUL and change is not None and change.action is Action.MODIFY:
            assert old is not None
            _update(state, old_ctx, resource, old_ctx.resolver.resolve(old.properties), properties)
            _adopt(ctx, old_ctx, logical_id)
            state.adopted.add(logical_id)
            continue
        handler = PROVISIONERS.get(kind)
        if handler is None:
            _placeholder(ctx, resource)
        else:
            handler(ctx, resource, properties)
    for item in plan.applied:  # removals: what holds data is checked before it goes
        if item.change.action is Action.REMOVE and item.change.type == "AWS::SQS::Queue":
            lid = item.change.logical_id
            if _remove_queue(state, old_ctx, lid) and cloud.template is not None:
                # Kept: it stays in the running template, so the next reload looks again.
                running.body["Resources"][lid] = cloud.template.body["Resources"][lid]
    return state


def _adopt(ctx: ProvisionContext, old: ProvisionContext, logical_id: str) -> None:
    """Take a running resource into the new context as it is (its name, URL, ARN, data)."""
    if logical_id in old.resolver.refs:
        ctx.resolver.refs[logical_id] = old.resolver.refs[logical_id]
    if logical_id in old.resolver.attrs:
        ctx.resolver.attrs[logical_id] = old.resolver.attrs[logical_id]
    if logical_id in old.resolver.attr_fallbacks:
        ctx.resolver.attr_fallbacks[logical_id] = old.resolver.attr_fallbacks[logical_id]
    for collection in ("queues", "tables", "state_machines", "functions", "log_groups"):
        source, target = getattr(old.stack, collection), getattr(ctx.stack, collection)
        if logical_id in source:
            target[logical_id] = source[logical_id]


def _update(
    state: _Reconciled,
    old_ctx: ProvisionContext,
    resource: Resource,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    """A data-holding resource changed in a way that keeps its data: update it in place."""
    ctx, logical_id, kind = state.ctx, resource.logical_id, resource.type
    clients = ctx.clients
    if kind == "AWS::StepFunctions::StateMachine":
        request = state_machine_request(ctx, resource, after)
        arn = old_ctx.stack.state_machines[logical_id]
        # UpdateStateMachine takes no name, type or tags: tags change through TagResource.
        update = {k: v for k, v in request.items() if k not in ("name", "type", "tags")}
        tags = request.get("tags") or []

        def update_machine() -> None:
            clients.stepfunctions.update_state_machine(stateMachineArn=arn, **update)
            if tags:
                clients.stepfunctions.tag_resource(resourceArn=arn, tags=tags)

        state.commits.append(update_machine)
    elif kind == "AWS::SQS::Queue":
        url = old_ctx.stack.queues[logical_id].url
        attributes = {
            key: _text(after[key]) if key in after else _QUEUE_DEFAULTS[key]
            for key in _QUEUE_DEFAULTS
            if before.get(key) != after.get(key)
        }
        if attributes:
            state.commits.append(
                lambda: clients.sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
            )
    elif kind in ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"):
        name = old_ctx.stack.tables[logical_id]
        ttl_before = before.get("TimeToLiveSpecification") or {}
        ttl_after = after.get("TimeToLiveSpecification") or {}
        if ttl_before != ttl_after:
            enabled = bool(ttl_after.get("AttributeName")) and (
                str(ttl_after.get("Enabled", True)).lower() == "true"
            )
            attribute = ttl_after.get("AttributeName") or ttl_before.get("AttributeName")
            specification = {"Enabled": enabled, "AttributeName": attribute}
            state.commits.append(
                lambda: clients.dynamodb.update_time_to_live(
                    TableName=name, TimeToLiveSpecification=specification
                )
            )
    elif kind == "AWS::Logs::LogGroup":
        name = old_ctx.stack.log_groups[logical_id]
        retention = after.get("RetentionInDays")
        if retention:
            state.commits.append(lambda: _ignore(ensure_log_group(ctx, name, retention)))
        else:
            state.commits.append(lambda: clients.logs.delete_retention_policy(logGroupName=name))


def _ignore(_: Any) -> None:
    """A commit step's result is not used."""


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _remove_queue(state: _Reconciled, old_ctx: ProvisionContext, logical_id: str) -> bool:
    """Delete a queue the stack no longer has, unless it holds messages (then: True, kept)."""
    queue = old_ctx.stack.queues.get(logical_id)
    if queue is None:
        return False
    sqs = state.ctx.clients.sqs
    counts = sqs.get_queue_attributes(
        QueueUrl=queue.url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    held = sum(int(value) for value in counts.values())
    if held:  # deleting it would lose accepted messages: keep it, say so
        _adopt(state.ctx, old_ctx, logical_id)
        state.adopted.add(logical_id)
        state.named.append(
            f"{logical_id} (AWS::SQS::Queue): removed from the stack but holds {held} "
            "message(s), kept locally; purge it, then save again (or restart)"
        )
        return True
    state.commits.append(lambda: sqs.delete_queue(QueueUrl=queue.url))
    return False


def _function_changes(
    cloud: LocalCloud, old_ctx: ProvisionContext, state: _Reconciled, outcome: Outcome
) -> list[FunctionSpec]:
    """The specifications to swap in; the new context's `functions` hold the template's
    version (the base of the next three-way merge)."""
    runtime = cloud.runtime
    assert runtime is not None
    captured: _Capture = state.ctx.runtime  # type: ignore[assignment]
    to_swap: list[FunctionSpec] = []
    code_changed: list[str] = []
    config_changed: list[str] = []
    added: list[str] = []
    for logical_id, theirs in list(state.ctx.stack.functions.items()):
        if logical_id in state.adopted:
            continue
        assert captured.specs.get(theirs.name) is theirs
        base = old_ctx.stack.functions.get(logical_id)
        if base is None or base.name != theirs.name:
            to_swap.append(theirs)
            added.append(_short(cloud, theirs.name))
            continue
        current = runtime.get(base.name)
        merged = merge_spec(base, theirs, current)
        same_code = merged.code_dir == current.code_dir
        if same_code:  # keep the running copy as the base: the content is the same
            state.ctx.stack.functions[logical_id] = dataclasses.replace(
                theirs, code_dir=base.code_dir
            )
        if merged != current:
            to_swap.append(merged)
            (config_changed if same_code else code_changed).append(_short(cloud, theirs.name))
    if code_changed:
        outcome.applied.append(f"code of {', '.join(sorted(code_changed))}")
    if config_changed:
        outcome.applied.append(f"configuration of {', '.join(sorted(config_changed))}")
    if added:
        outcome.applied.append(f"new function {', '.join(sorted(added))}")
    return to_swap


def _commit(
    cloud: LocalCloud, old_ctx: ProvisionContext, state: _Reconciled, outcome: Outcome
) -> None:
    ctx, runtime = state.ctx, cloud.runtime
    assert runtime is not None and cloud.gateway is not None and cloud.stack is not None
    for commit in state.commits:
        commit()
    removed = [
        spec for lid, spec in old_ctx.stack.functions.items() if lid not in ctx.stack.functions
    ]
    for spec in removed:
        with contextlib.suppress(LambdaServiceError):  # already gone
            runtime.remove(spec.name)
    if removed:
        outcome.applied.append(
            f"removed function {', '.join(_short(cloud, s.name) for s in removed)}"
        )
    _restart_pollers(cloud, old_ctx, ctx, outcome)
    old_routes = _routes(old_ctx)
    cloud.gateway.set_apis(sorted(ctx.stack.rest_apis.values(), key=lambda api: api.logical_id))
    new_routes = _routes(ctx)
    if old_routes != new_routes:
        for route in sorted(new_routes - old_routes):
            outcome.applied.append(f"new route {route}")
        for route in sorted(old_routes - new_routes):
            outcome.applied.append(f"removed route {route}")
    for item in state.plan.applied:
        change = item.change
        if change.type == "AWS::StepFunctions::StateMachine":
            outcome.applied.append(f"state machine {change.logical_id} {item.what}")
        elif change.type == "AWS::SQS::Queue":
            kept = change.action is Action.REMOVE and change.logical_id in ctx.stack.queues
            if not kept:
                outcome.applied.append(f"queue {change.logical_id} {item.what}")
        elif change.type in ("AWS::DynamoDB::Table", "AWS::Logs::LogGroup"):
            outcome.applied.append(f"{change.logical_id} {item.what}")
    ctx.stack.warnings.extend(ctx.resolver.warnings)
    cloud.template, cloud.stack, cloud.provision_context = state.template, ctx.stack, ctx
    cloud.outputs = cloud._outputs(ctx.resolver)
    if cloud.faults is not None and cloud.clients is not None:
        cloud.faults.bind(ctx.stack.functions, ctx.stack.queues.values(), cloud.clients.sqs)
    if cloud.fis is not None:  # FIS (ftb/localcloud/fis): the reloaded templates and functions
        cloud.bind_fis(ctx.resolver, ctx.stack)
    statefile.write(cloud.options.state_path, cloud.state())


def _routes(ctx: ProvisionContext) -> set[str]:
    routes = set()
    for api in ctx.stack.rest_apis.values():
        for (resource_id, method), _ in api.methods.items():
            routes.add(f"{method} {_path(api, resource_id)}")
    return routes


def _path(api: Any, resource_id: str) -> str:
    parts = []
    while resource_id in api.resources:
        resource = api.resources[resource_id]
        if resource.path_part:
            parts.append(resource.path_part)
        if resource.parent_id is None:
            break
        resource_id = resource.parent_id
    return "/" + "/".join(reversed(parts))


def _restart_pollers(
    cloud: LocalCloud, old_ctx: ProvisionContext, ctx: ProvisionContext, outcome: Outcome
) -> None:
    """Pollers of new or changed mappings start; those of removed or changed ones stop after
    their current batch (its messages are deleted or stay queued, as always)."""
    runtime = cloud.runtime
    assert runtime is not None
    old = {m.logical_id: m for m in old_ctx.stack.event_source_mappings}
    new = {m.logical_id: m for m in ctx.stack.event_source_mappings}
    swapped = {
        spec.name
        for lid, spec in ctx.stack.functions.items()
        if (before := old_ctx.stack.functions.get(lid)) is None
        or before.reserved_concurrency != spec.reserved_concurrency
    }
    names = {spec.name for spec in runtime.functions()}
    restart = {
        lid
        for lid, mapping in new.items()
        if old.get(lid) != mapping or mapping.function_name in swapped
    }
    stopping = [
        poller
        for poller in cloud.pollers
        if poller.mapping.logical_id in restart or poller.mapping.logical_id not in new
    ]
    for poller in stopping:
        poller.signal_stop()
    kept: list[SqsPoller] = [p for p in cloud.pollers if p not in stopping]
    starting = [new[lid] for lid in sorted(restart) if new[lid].function_name in names]

    def limit(function: str) -> int | None:
        try:
            return runtime.get(function).reserved_concurrency
        except Exception:
            return None

    started = start_pollers(
        starting,
        ctx.clients.sqs,
        cloud._runtime_invoke,
        cloud.options.region,
        concurrency_limit=limit,
        echo=cloud.terminal.attention,
        faults=cloud.faults,
    )
    cloud.pollers[:] = kept + started  # in place: the control plane lists this same list
    for lid in sorted(set(new) - set(old)):
        outcome.applied.append(f"new mapping {new[lid].queue.name} -> {new[lid].function_name}")
    for lid in sorted(set(old) - set(new)):
        outcome.applied.append(f"removed mapping {old[lid].queue.name} -> {old[lid].function_name}")
    for lid in sorted(restart & set(old)):
        if old[lid] != new[lid]:
            outcome.applied.append(f"mapping {lid} changed")

    def finish() -> None:  # let them finish their batch without holding the reload up
        for poller in stopping:
            poller.stop(timeout=60)

    threading.Thread(target=finish, name="hot-reload-pollers", daemon=True).start()


__all__ = ["Outcome", "ReloadError", "apply_template", "swap_functions"]
