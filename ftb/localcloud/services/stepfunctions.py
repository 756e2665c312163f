"""AWS Step Functions: state machines and their executions (moto's engine runs them)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ftb.localcloud.persistence import stepfunctions as saved
from ftb.localcloud.provision import ProvisionContext
from ftb.localcloud.provision.stepfunctions import state_machine_request
from ftb.localcloud.registry import Persistence, Service, register
from ftb.localcloud.services._common import provided
from ftb.localcloud.template import Resource

STATE_MACHINE = "AWS::StepFunctions::StateMachine"


def _update(
    ctx: ProvisionContext,
    old: ProvisionContext,
    resource: Resource,
    before: dict[str, Any],
    after: dict[str, Any],
) -> list[Callable[[], None]]:
    request = state_machine_request(ctx, resource, after)
    arn = old.stack.state_machines[resource.logical_id]
    # UpdateStateMachine takes no name, type or tags: tags change through TagResource.
    update = {k: v for k, v in request.items() if k not in ("name", "type", "tags")}
    tags = request.get("tags") or []

    def update_machine() -> None:
        ctx.clients.stepfunctions.update_state_machine(stateMachineArn=arn, **update)
        if tags:
            ctx.clients.stepfunctions.tag_resource(resourceArn=arn, tags=tags)

    return [update_machine]


def _restore(document: Any, keeper: Any, summary: Any) -> None:
    # Last of the restores: re-run executions invoke functions and send messages at once.
    executions, rerun = saved.restore(document, keeper.region, keeper.ended_executions)
    summary.executions, summary.rerun = executions + rerun, rerun


register(
    Service(
        name="stepfunctions",
        signing_name="states",
        moto_responses=(("stepfunctions", "StepFunctionResponse"),),
        provisioners=provided(STATE_MACHINE),
        stateful_types=frozenset({STATE_MACHINE}),
        live_properties={
            STATE_MACHINE: frozenset(
                {
                    "Definition",
                    "DefinitionString",
                    "DefinitionS3Location",
                    "DefinitionSubstitutions",
                    "RoleArn",
                    "LoggingConfiguration",
                    "TracingConfiguration",
                    "Tags",
                    "DependsOn",
                }
            )
        },
        kept_on_remove={STATE_MACHINE: "its executions stay readable"},
        update=_update,
        # First of the captures: an execution's effects elsewhere are gated calls, so one
        # that ended before it has its effects in the captures that follow.
        nouns={STATE_MACHINE: "state machine "},
        persistence=Persistence(
            key="stepfunctions",
            capture=lambda keeper: saved.capture(keeper.region, keeper.ended_executions),
            restore=_restore,
            order=10,
        ),
    )
)
