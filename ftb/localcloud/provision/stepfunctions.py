"""Step Functions state machines."""

from __future__ import annotations

import json
from typing import Any

from ftb.localcloud.provision.context import ProvisionContext, ProvisionError, provisioner
from ftb.localcloud.provision.tags import as_list, resource_tags
from ftb.localcloud.template import Resource

# -- Step Functions ----------------------------------------------------------------------------


@provisioner("AWS::StepFunctions::StateMachine")
def _state_machine(ctx: ProvisionContext, resource: Resource, props: dict[str, Any]) -> None:
    request = state_machine_request(ctx, resource, props)
    name = request["name"]
    arn = ctx.clients.stepfunctions.create_state_machine(**request)["stateMachineArn"]
    ctx.stack.state_machines[resource.logical_id] = arn
    ctx.resolver.set_resource(
        resource.logical_id,
        arn,
        {"Arn": arn, "Name": name, "StateMachineRevisionId": "INITIAL"},
    )


def state_machine_request(
    ctx: ProvisionContext, resource: Resource, props: dict[str, Any]
) -> dict[str, Any]:
    """CreateStateMachine's arguments (a hot reload sends them to UpdateStateMachine)."""
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
        "tags": as_list(resource_tags(ctx, resource, props), "key", "value"),
    }
    for source, target in (
        ("LoggingConfiguration", "loggingConfiguration"),
        ("TracingConfiguration", "tracingConfiguration"),
    ):
        if props.get(source):
            request[target] = _camel_keys(props[source])
    return request


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
