"""The difference between the running template and a newly synthesized one, and what of it
can be applied to a running local cloud.

Like `cdk deploy --hotswap` in its HOTSWAP_ONLY mode ("will not fall back to CloudFormation
when a non-hotswappable change is detected"; aws_cdk.cli_lib_alpha.HotswapMode), a change
that can be applied live is applied, and one that cannot is named with what to do, never
half-done. Locally more is live than on AWS (a queue, a function, a mapping or a route can
be added or removed) because nothing but this process holds them; what would throw local
state away (a table's key, a queue's name) is not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ftb.localcloud import registry

RESTART = "stop `ftb local` (Ctrl-C) and start it again"


class Action(Enum):
    ADD = "add"
    REMOVE = "remove"
    MODIFY = "modify"


@dataclass(frozen=True)
class ResourceChange:
    logical_id: str
    type: str
    action: Action
    properties: tuple[str, ...] = ()  # the top-level properties that differ (MODIFY)


@dataclass(frozen=True)
class TemplateDiff:
    changes: tuple[ResourceChange, ...]
    outputs_changed: bool = False

    @property
    def empty(self) -> bool:
        return not self.changes and not self.outputs_changed


@dataclass(frozen=True)
class Planned:
    change: ResourceChange
    live: bool
    what: str  # what is applied, or why it cannot be ("KeySchema changed: ...")
    todo: str = ""  # for a change that is not applied: what to do


@dataclass
class Plan:
    applied: list[Planned] = field(default_factory=list)
    named: list[Planned] = field(default_factory=list)
    quiet: list[Planned] = field(default_factory=list)  # no local effect (IAM, alarms, ...)


# Only the asset path says "the code changed" in a resource's metadata; the construct path
# and the like change with nothing that runs.
_RELEVANT_METADATA = ("aws:asset:path",)


def _comparable(raw: dict[str, Any]) -> dict[str, Any]:
    metadata = raw.get("Metadata") or {}
    return {
        "Type": raw.get("Type"),
        "Properties": raw.get("Properties") or {},
        "Condition": raw.get("Condition"),
        "DependsOn": raw.get("DependsOn"),
        "Metadata": {key: metadata[key] for key in _RELEVANT_METADATA if key in metadata},
    }


def diff_templates(old: dict[str, Any], new: dict[str, Any]) -> TemplateDiff:
    """Resources added, removed or modified (with the properties that differ), by logical id.
    A resource whose type changed is a removal and an addition, as CloudFormation replaces it."""
    old_resources = old.get("Resources") or {}
    new_resources = new.get("Resources") or {}
    changes: list[ResourceChange] = []
    for logical_id in sorted(set(old_resources) | set(new_resources)):
        before, after = old_resources.get(logical_id), new_resources.get(logical_id)
        if before is None:
            assert after is not None
            changes.append(ResourceChange(logical_id, str(after.get("Type")), Action.ADD))
            continue
        if after is None:
            changes.append(ResourceChange(logical_id, str(before.get("Type")), Action.REMOVE))
            continue
        a, b = _comparable(before), _comparable(after)
        if a == b:
            continue
        if a["Type"] != b["Type"]:
            changes.append(ResourceChange(logical_id, str(a["Type"]), Action.REMOVE))
            changes.append(ResourceChange(logical_id, str(b["Type"]), Action.ADD))
            continue
        names = {
            name
            for name in set(a["Properties"]) | set(b["Properties"])
            if a["Properties"].get(name) != b["Properties"].get(name)
        }
        if a["Metadata"] != b["Metadata"]:
            names.add("Code")  # the asset moved: its content changed
        for key in ("Condition", "DependsOn"):
            if a[key] != b[key]:
                names.add(key)
        changes.append(
            ResourceChange(logical_id, str(a["Type"]), Action.MODIFY, tuple(sorted(names)))
        )
    outputs_changed = (old.get("Outputs") or {}) != (new.get("Outputs") or {})
    return TemplateDiff(tuple(changes), outputs_changed)


# -- what is live --------------------------------------------------------------------------------

# Per type, what a reload applies live, rebuilds, or keeps: as each service declares it
# (ftb/localcloud/services, through the registry).


def plan_changes(diff: TemplateDiff, emulated: set[str]) -> Plan:
    """Sort each change into applied live, named (not applied, with what to do), or quiet (a
    type the local cloud does not emulate: nothing runs it). `emulated`: the resource types
    the local cloud provisions."""
    plan = Plan()
    rebuilt, live_properties = registry.rebuilt_prefixes(), registry.live_properties()
    kept_on_remove, kept_quietly = registry.kept_on_remove(), registry.kept_quietly()
    for change in diff.changes:
        kind = change.type
        if kind not in emulated and not kind.startswith(rebuilt):
            plan.quiet.append(Planned(change, True, "not emulated locally"))
            continue
        if change.action is Action.ADD:
            plan.applied.append(Planned(change, True, "added"))
        elif change.action is Action.REMOVE and kind in kept_quietly:
            plan.quiet.append(Planned(change, True, "removed from the stack, kept locally"))
        elif change.action is Action.REMOVE:
            kept = kept_on_remove.get(kind)
            if kept is not None:
                what = f"removed from the stack, kept locally ({kept})"
                plan.named.append(Planned(change, False, what, RESTART))
            else:
                plan.applied.append(Planned(change, True, "removed"))
        elif kind.startswith(rebuilt):
            plan.applied.append(Planned(change, True, "changed " + ", ".join(change.properties)))
        else:
            live = live_properties.get(kind, frozenset())
            fixed = [name for name in change.properties if name not in live]
            if fixed:
                plan.named.append(
                    Planned(
                        change,
                        False,
                        f"{', '.join(fixed)} changed: needs a new resource",
                        f"{RESTART} (the resource is created anew, empty)",
                    )
                )
            else:
                plan.applied.append(
                    Planned(change, True, "changed " + ", ".join(change.properties))
                )
    return plan


def effective_body(old: dict[str, Any], new: dict[str, Any], plan: Plan) -> dict[str, Any]:
    """The template the cloud runs after applying `plan`: the new one, except that what is not
    applied keeps its running definition (so the next reload names it again)."""
    body = {**new, "Resources": dict(new.get("Resources") or {})}
    resources = body["Resources"]
    old_resources = old.get("Resources") or {}
    for item in plan.named:
        logical_id = item.change.logical_id
        if logical_id in old_resources:
            resources[logical_id] = old_resources[logical_id]
        else:
            resources.pop(logical_id, None)
    return body
