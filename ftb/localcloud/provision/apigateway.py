"""API Gateway REST APIs: their models for the local API."""

from __future__ import annotations

import json
import re
from typing import Any

from ftb.localcloud.apigateway.models import (
    ApiMethod,
    ApiResource,
    GatewayResponse,
    MockIntegration,
    RestApi,
)
from ftb.localcloud.provision.context import ProvisionContext, ProvisionError, provisioner
from ftb.localcloud.template import (
    Resource,
    stable_id,
)

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
