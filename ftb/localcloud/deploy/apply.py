"""Apply a template to the running local cloud: the one engine of the start and of hot reload.

The start applies the template to an empty cloud (the diff from nothing: every resource is
added); a hot reload applies the difference between the running template and a new one,
the way `cdk deploy --hotswap` does. Two phases, so that a reload is applied whole or not at
all:
1. reconcile: provision the new template against the running resources into a fresh
   context. What holds data (queues, tables, state machines, log groups) is adopted as it
   runs, or updated in place; what holds none (functions' specifications, event source
   mappings, API routes, placeholders) is built from the new template again. New functions'
   code is imported in a fresh worker: code that does not import stops the reload here.
   An empty cloud has no last good version to keep running: its functions are registered
   and start at their first invocation, as Lambda's cold start.
2. commit: swap the functions (invocations that start afterwards run the new version,
   running ones finish on the old), update state machines and queues, let the caller put
   the saved state back (`before_traffic`, at the start), restart the pollers of changed
   mappings, install the new routes, compute the outputs, tell the owner (`on_applied`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftb.localcloud import registry
from ftb.localcloud.deploy.code_digest import digest
from ftb.localcloud.deploy.diff import (
    Action,
    Plan,
    ResourceChange,
    diff_templates,
    effective_body,
    plan_changes,
)
from ftb.localcloud.deploy.running import RunningStack
from ftb.localcloud.event_sources import SqsPoller, start_pollers
from ftb.localcloud.lambda_runtime import FunctionSpec, LambdaServiceError
from ftb.localcloud.provision import (
    LocalStack,
    ProvisionContext,
    ProvisionError,
    placeholder,
    unused_overrides,
)
from ftb.localcloud.template import (
    Resolver,
    Resource,
    StackContext,
    Template,
    TemplateError,
    dependency_order,
)


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
    running: RunningStack, specs: list[FunctionSpec], first: set[str] | None = None
) -> None:
    """Swap in new versions: one worker of each imports the new code before its function
    serves it. The functions named in `first` (those whose handler module changed: the one
    the developer waits for) are prepared and swapped first, then the others. Whole or
    nothing: when one does not import, none is swapped, or those already swapped go back to
    the version they ran (ReloadError says which did not)."""
    runtime = running.runtime
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
                f"{running.short_name(pool_.spec.name)} does not start: {error.get('errorType')}: "
                f"{error.get('errorMessage')}"
            )
        for pool_, _ in prepared:
            with contextlib.suppress(LambdaServiceError):  # a new function: nothing to undo
                swapped.append(runtime.get(pool_.spec.name))
            runtime.commit(pool_)


@dataclass
class _Reconciled:
    ctx: ProvisionContext
    plan: Plan
    template: Template
    commits: list[Callable[[], None]] = field(default_factory=list)
    adopted: set[str] = field(default_factory=set)
    named: list[str] = field(default_factory=list)


def apply_template(
    running: RunningStack,
    new: Template,
    *,
    before_traffic: Callable[[LocalStack], None] | None = None,
) -> Outcome:
    """Apply the difference between the running template (none: an empty cloud) and `new`.
    ProvisionError or TemplateError when a resource cannot be created, ReloadError when the
    new version cannot be applied otherwise: on a running cloud, nothing changed then.
    `before_traffic` runs once the resources and functions exist, before the pollers start
    and the routes are installed (the start restores the saved state there)."""
    empty = running.context is None
    old_ctx = running.context or _empty_context(running, new)
    old_body = running.template.body if running.template is not None else {}
    diff = diff_templates(old_body, new.body)
    if diff.empty and not empty:
        return Outcome()
    plan = plan_changes(diff, set(registry.provisioners()))
    target = Template(
        path=new.path,
        body=effective_body(old_body, new.body, plan),
        stack_name=new.stack_name,
        assets=new.assets,
    )
    try:
        state = _reconcile(running, old_ctx, target, plan)
    except (ReloadError, ProvisionError, TemplateError):
        raise
    except Exception as error:  # a template the local cloud cannot run: say so, keep running
        raise ReloadError(f"the new template cannot be provisioned: {error}") from error
    if empty:  # at the start, an override that matches nothing is a typo: refuse it
        unused = unused_overrides(state.ctx)
        if unused:
            raise ProvisionError(f"--set-env matched no function: {unused}")
    outcome = Outcome(named=list(state.named))
    outcome.named += [
        f"{item.change.logical_id} ({item.change.type}): {item.what}; {item.todo}"
        for item in plan.named
    ]
    functions = _function_changes(running, old_ctx, state, outcome)
    if empty:
        for spec in functions:
            running.runtime.register(spec)
    else:
        swap_functions(running, functions)  # raises ReloadError: nothing was committed
    _commit(running, old_ctx, state, outcome, before_traffic)
    return outcome


def _empty_context(running: RunningStack, new: Template) -> ProvisionContext:
    """What an empty cloud runs: no resource, nothing to adopt."""
    nothing = Template(path=new.path, body={}, stack_name=new.stack_name)
    resolver = Resolver(nothing, StackContext(stack_name=new.stack_name, region=running.region), {})
    return ProvisionContext(
        template=nothing,
        resolver=resolver,
        clients=running.clients,
        runtime=running.runtime,
        work_dir=running.work_dir,
    )


def _reconcile(
    running: RunningStack, old_ctx: ProvisionContext, target: Template, plan: Plan
) -> _Reconciled:
    resolver = Resolver(
        target,
        StackContext(stack_name=target.stack_name, region=running.region),
        running.parameters,
    )
    ctx = ProvisionContext(
        template=target,
        resolver=resolver,
        clients=running.clients,
        runtime=_Capture(),  # type: ignore[arg-type]
        work_dir=running.work_dir,
        env_overrides=list(running.env_overrides),
        localize=lambda text: running.localize(text, ctx.stack.rest_apis),
    )
    state = _Reconciled(ctx, plan, target)
    applied = {item.change.logical_id: item.change for item in plan.applied}
    named = {item.change.logical_id for item in plan.named}
    old_resources = old_ctx.template.resources
    for resource in dependency_order(target):
        try:
            _reconcile_resource(state, old_ctx, resource, applied, named, old_resources)
        except (TemplateError, ProvisionError):
            raise
        except Exception as error:
            raise ProvisionError(f"{resource.logical_id} ({resource.type}): {error}") from error
    for item in plan.applied:  # removals: what holds data is checked before it goes
        if item.change.action is Action.REMOVE:
            _retire(state, old_ctx, item.change)
    return state


def _retire(state: _Reconciled, old_ctx: ProvisionContext, change: ResourceChange) -> None:
    """A resource the stack no longer has: its service deletes it, or keeps it and says why
    (a queue that holds messages)."""
    service = registry.owner(change.type)
    if service is None or service.retire is None:
        return
    lid = change.logical_id
    kept, commits = service.retire(state.ctx, old_ctx, lid)
    state.commits += commits
    if kept:
        _adopt(state.ctx, old_ctx, lid)
        state.adopted.add(lid)
        state.named.append(f"{lid} ({change.type}): {kept}")
        # It stays in the running template, so the next reload looks again.
        state.template.body["Resources"][lid] = old_ctx.template.body["Resources"][lid]


def _reconcile_resource(
    state: _Reconciled,
    old_ctx: ProvisionContext,
    resource: Resource,
    applied: dict[str, ResourceChange],
    named: set[str],
    old_resources: dict[str, Resource],
) -> None:
    """Adopt a running resource as it is, update it in place, or provision it anew."""
    ctx = state.ctx
    if not ctx.resolver.is_active(resource):
        return
    logical_id, kind = resource.logical_id, resource.type
    change = applied.get(logical_id)
    stateful = kind in registry.stateful_types()
    if logical_id in named or (stateful and change is None):
        _adopt(ctx, old_ctx, logical_id)
        state.adopted.add(logical_id)
        return
    properties = ctx.resolver.resolve(resource.properties)
    if stateful and change is not None and change.action is Action.MODIFY:
        old = old_resources[logical_id]
        service = registry.owner(kind)
        if service is not None and service.update is not None:
            before = old_ctx.resolver.resolve(old.properties)
            state.commits += service.update(ctx, old_ctx, resource, before, properties)
        _adopt(ctx, old_ctx, logical_id)
        state.adopted.add(logical_id)
        return
    handler = registry.provisioners().get(kind)
    if handler is None:
        placeholder(ctx, resource)
    else:
        handler(ctx, resource, properties)


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


def _function_changes(
    running: RunningStack, old_ctx: ProvisionContext, state: _Reconciled, outcome: Outcome
) -> list[FunctionSpec]:
    """The specifications to swap in; the new context's `functions` hold the template's
    version (the base of the next three-way merge)."""
    runtime = running.runtime
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
        if base is None or base.name != theirs.name:  # new (at the start: every function)
            to_swap.append(theirs)
            added.append(running.short_name(theirs.name))
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
            (config_changed if same_code else code_changed).append(running.short_name(theirs.name))
    if code_changed:
        outcome.applied.append(f"code of {', '.join(sorted(code_changed))}")
    if config_changed:
        outcome.applied.append(f"configuration of {', '.join(sorted(config_changed))}")
    if added:
        outcome.applied.append(f"new function {', '.join(sorted(added))}")
    return to_swap


def _commit(
    running: RunningStack,
    old_ctx: ProvisionContext,
    state: _Reconciled,
    outcome: Outcome,
    before_traffic: Callable[[LocalStack], None] | None,
) -> None:
    ctx, runtime = state.ctx, running.runtime
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
            f"removed function {', '.join(running.short_name(s.name) for s in removed)}"
        )
    running.template, running.context = state.template, ctx
    if running.faults is not None:
        running.faults.bind(ctx.stack.functions, ctx.stack.queues.values(), running.clients.sqs)
    if before_traffic is not None:  # nothing runs on a half-restored state
        before_traffic(ctx.stack)
    ctx.stack.warnings.extend(ctx.resolver.warnings)
    running.outputs = outputs(running, ctx)
    _restart_pollers(running, old_ctx, ctx, outcome)
    old_routes = _routes(old_ctx)
    running.gateway.set_apis(sorted(ctx.stack.rest_apis.values(), key=lambda api: api.logical_id))
    new_routes = _routes(ctx)
    if old_routes != new_routes:
        for route in sorted(new_routes - old_routes):
            outcome.applied.append(f"new route {route}")
        for route in sorted(old_routes - new_routes):
            outcome.applied.append(f"removed route {route}")
    nouns = registry.nouns()
    for item in state.plan.applied:
        change = item.change
        kept = change.action is Action.REMOVE and change.logical_id in state.adopted
        if change.type in nouns and not kept:
            outcome.applied.append(f"{nouns[change.type]}{change.logical_id} {item.what}")


def outputs(running: RunningStack, ctx: ProvisionContext) -> dict[str, Any]:
    """The template's outputs with their local values (execute-api URLs made local)."""
    result = {}
    for name, output in ctx.template.outputs.items():
        if "Condition" in output and not ctx.resolver.condition(output["Condition"]):
            continue
        try:
            value = ctx.resolver.resolve(output.get("Value"))
        except Exception as error:  # an output of an unemulated resource: say so, go on
            ctx.stack.warnings.append(f"output {name}: {error}")
            continue
        result[name] = ctx.localize(value) if isinstance(value, str) else value
    return result


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
    running: RunningStack, old_ctx: ProvisionContext, ctx: ProvisionContext, outcome: Outcome
) -> None:
    """Pollers of new or changed mappings start; those of removed or changed ones stop after
    their current batch (its messages are deleted or stay queued, as always)."""
    runtime = running.runtime
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
        for poller in running.pollers
        if poller.mapping.logical_id in restart or poller.mapping.logical_id not in new
    ]
    for poller in stopping:
        poller.signal_stop()
    kept: list[SqsPoller] = [p for p in running.pollers if p not in stopping]
    starting = []
    for lid in [lid for lid in new if lid in restart]:  # in the template's order
        if new[lid].function_name in names:
            starting.append(new[lid])
        elif lid not in old:
            ctx.stack.warnings.append(
                f"{lid}: {new[lid].function_name} does not run locally; "
                f"{new[lid].queue.name} is not polled"
            )

    def limit(function: str) -> int | None:
        # Beyond reserved concurrency Lambda throttles; otherwise the runtime queues.
        try:
            return runtime.get(function).reserved_concurrency
        except LambdaServiceError:
            return None

    started = start_pollers(
        starting,
        ctx.clients.sqs,
        running.invoke,
        running.region,
        concurrency_limit=limit,
        echo=running.echo,
        faults=running.faults,
    )
    running.pollers[:] = kept + started  # in place: the control plane lists this same list
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


__all__ = ["Outcome", "ReloadError", "apply_template", "merge_spec", "outputs", "swap_functions"]
