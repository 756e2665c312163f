"""FIS experiments of one stack, through the FIS API only: the same calls answer on AWS and
on the local endpoint (ftb/localcloud/fis)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

ENDED = frozenset({"completed", "stopped", "failed", "cancelled"})
UNDER_WAY = frozenset({"pending", "initiating", "running", "stopping"})


@dataclass(frozen=True)
class TemplateInfo:
    id: str
    name: str  # the Name tag (what `ftb chaos run NAME` takes), else the id
    description: str
    actions: list[str]  # "<name>: <actionId> (<parameters>)"
    stop_conditions: list[str]  # alarm names, or "none"


def _pages(call: Callable[..., dict[str, Any]], key: str, **kwargs: Any) -> Iterator[Any]:
    token = None
    while True:
        answer = call(**kwargs, **({"nextToken": token} if token else {}))
        yield from answer.get(key, [])
        token = answer.get("nextToken")
        if not token:
            return


def stack_template_ids(cloudformation: Any, stack: str) -> set[str] | None:
    """The ids of the stack's AWS::FIS::ExperimentTemplate resources; None when the stack's
    resources cannot be read (then every template of the account is listed)."""
    try:
        resources = _pages(
            cloudformation.list_stack_resources, "StackResourceSummaries", StackName=stack
        )
        return {
            str(r.get("PhysicalResourceId"))
            for r in resources
            if r.get("ResourceType") == "AWS::FIS::ExperimentTemplate"
        }
    except (ClientError, BotoCoreError):
        return None


def _alarm(value: str | None) -> str:
    if not value:
        return "none"
    return value.partition(":alarm:")[2] or value


def templates(fis: Any, only: set[str] | None = None) -> list[TemplateInfo]:
    found = []
    for summary in _pages(fis.list_experiment_templates, "experimentTemplates"):
        if only is not None and summary["id"] not in only:
            continue
        full = fis.get_experiment_template(id=summary["id"])["experimentTemplate"]
        actions = [
            f"{name}: {action['actionId']} ("
            + ", ".join(f"{k}={v}" for k, v in sorted((action.get("parameters") or {}).items()))
            + ")"
            for name, action in sorted((full.get("actions") or {}).items())
        ]
        found.append(
            TemplateInfo(
                id=full["id"],
                name=(full.get("tags") or {}).get("Name") or full["id"],
                description=full.get("description", ""),
                actions=actions,
                stop_conditions=[_alarm(c.get("value")) for c in full.get("stopConditions", [])],
            )
        )
    return sorted(found, key=lambda info: info.name)


def find_template(found: list[TemplateInfo], name: str) -> TemplateInfo | None:
    return next((info for info in found if name in {info.name, info.id}), None)


def start(fis: Any, template_id: str) -> dict[str, Any]:
    answer = fis.start_experiment(clientToken=str(uuid.uuid4()), experimentTemplateId=template_id)
    return answer["experiment"]  # type: ignore[no-any-return]


def get(fis: Any, experiment_id: str) -> dict[str, Any]:
    return fis.get_experiment(id=experiment_id)["experiment"]  # type: ignore[no-any-return]


def stop(fis: Any, experiment_id: str) -> dict[str, Any]:
    return fis.stop_experiment(id=experiment_id)["experiment"]  # type: ignore[no-any-return]


def under_way(fis: Any, template_ids: set[str] | None) -> list[dict[str, Any]]:
    return [
        summary
        for summary in _pages(fis.list_experiments, "experiments")
        if summary["state"]["status"] in UNDER_WAY
        and (template_ids is None or summary.get("experimentTemplateId") in template_ids)
    ]


def follow(
    fis: Any,
    experiment_id: str,
    on_change: Callable[[str, dict[str, Any]], None],
    *,
    interval: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Poll GetExperiment until the experiment ends; `on_change(what, experiment)` for each
    new state of the experiment ("experiment") or of an action ("action:<name>")."""
    seen: dict[str, tuple[str, str]] = {}
    while True:
        experiment = get(fis, experiment_id)
        states = {"experiment": experiment["state"]}
        for name, action in (experiment.get("actions") or {}).items():
            states[f"action:{name}"] = action.get("state") or {}
        for what, state in states.items():
            key = (str(state.get("status")), str(state.get("reason", "")))
            if seen.get(what) != key:
                seen[what] = key
                on_change(what, experiment)
        if experiment["state"]["status"] in ENDED:
            return experiment
        sleep(interval)
