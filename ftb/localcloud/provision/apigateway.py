"""API Gateway REST APIs: their models for the local API."""

from __future__ import annotations

import json
import re
from typing import Any

from ftb.localcloud.apigateway.api_keys import ApiKey, UsagePlan, generate_key_value
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
    if method.authorization not in ("NONE", "AWS_IAM"):
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


# -- API keys and usage plans (ftb/localcloud/apigateway/api_keys.py enforces them) -------------


@provisioner("AWS::ApiGateway::ApiKey")
def _api_key(ctx: ProvisionContext, resource: Resource, props: dict[str, Any]) -> None:
    key_id = stable_id(ctx.context.stack_name, resource.logical_id, length=10)
    key = ApiKey(
        id=key_id,
        name=str(props.get("Name") or resource.logical_id),
        # No Value in the template: generated, as API Gateway does, known only to this run.
        value=str(props.get("Value") or generate_key_value()),
        enabled=bool(props.get("Enabled", True)),
    )
    ctx.stack.usage_plans.keys[key_id] = key
    for stage_key in props.get("StageKeys") or []:  # the legacy form: a key bound to stages
        ctx.stack.warnings.append(
            f"{resource.logical_id}: StageKeys {stage_key} are not emulated; use a usage plan"
        )
    ctx.resolver.set_resource(resource.logical_id, key_id, {"APIKeyId": key_id})


@provisioner("AWS::ApiGateway::UsagePlan")
def _usage_plan(ctx: ProvisionContext, resource: Resource, props: dict[str, Any]) -> None:
    plan_id = stable_id(ctx.context.stack_name, resource.logical_id, length=6)
    throttle = props.get("Throttle") or {}
    quota = props.get("Quota") or {}
    plan = UsagePlan(
        id=plan_id,
        name=str(props.get("UsagePlanName") or resource.logical_id),
        stages={
            (str(stage["ApiId"]), str(stage["Stage"])) for stage in props.get("ApiStages") or []
        },
        rate_limit=float(throttle["RateLimit"]) if "RateLimit" in throttle else None,
        burst_limit=int(throttle["BurstLimit"]) if "BurstLimit" in throttle else None,
        quota_limit=int(quota["Limit"]) if "Limit" in quota else None,
        quota_period=str(quota.get("Period", "DAY")).upper(),
        quota_offset=int(quota.get("Offset", 0)),
    )
    if any(stage.get("Throttle") for stage in props.get("ApiStages") or []):
        ctx.stack.not_emulated.setdefault("usage plan per-method throttles", []).append(
            resource.logical_id
        )
    ctx.stack.usage_plans.plans[plan_id] = plan
    ctx.resolver.set_resource(resource.logical_id, plan_id, {"Id": plan_id})


@provisioner("AWS::ApiGateway::UsagePlanKey")
def _usage_plan_key(ctx: ProvisionContext, resource: Resource, props: dict[str, Any]) -> None:
    plan = ctx.stack.usage_plans.plans.get(str(props["UsagePlanId"]))
    key_id = str(props["KeyId"])
    if plan is None or key_id not in ctx.stack.usage_plans.keys:
        raise ProvisionError(f"{resource.logical_id}: unknown usage plan or key")
    plan.key_ids.add(key_id)
    ctx.resolver.set_resource(resource.logical_id, f"{key_id}:{plan.id}", {})
