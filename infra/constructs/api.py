"""The REST API: POST /tasks and GET /tasks/{taskId}, Lambda proxy integrations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import names
from infra.constructs.api_access import method_options

# The request rules come from the API's one description (api/openapi.yaml); the handler's
# pydantic model is the one validator of the body (it names the field and the reason, and also
# answers 413 and 415, which a schema cannot express): the gateway keeps the model as the
# method's documentation (exported OpenAPI, SDKs) but does not validate bodies against it
# (docs/decisions.md). tests/unit/test_openapi_contract.py keeps the two in step.
OPENAPI_PATH = names.REPO_ROOT / "api" / "openapi.yaml"
REQUEST_SCHEMA_NAME = "TaskSubmission"

_SCHEMA_TYPES = {member.value.lower(): member for member in apigw.JsonSchemaType}
# JSON Schema keywords the model may carry -> JsonSchema field. Anything else in the OpenAPI
# schema is an error: a rule must not silently vanish from the gateway's validation.
_KEYWORDS = {
    "title": "title",
    "description": "description",
    "required": "required",
    "minLength": "min_length",
    "maxLength": "max_length",
    "pattern": "pattern",
    "enum": "enum",
}


def openapi_document(path: Path = OPENAPI_PATH) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3."):
        raise ValueError(f"{path} is not an OpenAPI 3 document")
    return document


def request_schema(document: dict[str, Any], name: str = REQUEST_SCHEMA_NAME) -> dict[str, Any]:
    """components.schemas[name] as a plain JSON schema dict."""
    schema = document["components"]["schemas"][name]
    if not isinstance(schema, dict):
        raise ValueError(f"components.schemas.{name} is not a schema object")
    return schema


def json_schema(schema: dict[str, Any], *, root: bool = True) -> apigw.JsonSchema:
    """An OpenAPI 3.0 schema object -> API Gateway's JSON Schema draft 4 model."""
    fields: dict[str, Any] = {}
    for keyword, value in schema.items():
        if keyword == "type":
            fields["type"] = _SCHEMA_TYPES[value]
        elif keyword == "properties":
            fields["properties"] = {key: json_schema(sub, root=False) for key, sub in value.items()}
        elif keyword == "items":
            fields["items"] = json_schema(value, root=False)
        elif keyword == "additionalProperties":
            fields["additional_properties"] = (
                value if isinstance(value, bool) else json_schema(value, root=False)
            )
        elif keyword in _KEYWORDS:
            fields[_KEYWORDS[keyword]] = value
        else:
            raise ValueError(f"schema keyword {keyword!r} has no API Gateway model equivalent")
    if root:
        fields["schema"] = apigw.JsonSchemaVersion.DRAFT4
    return apigw.JsonSchema(**fields)


TASK_SUBMISSION_SCHEMA = json_schema(request_schema(openapi_document()))

# One JSON object per request; the validation error says why API Gateway rejected a body.
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "path": "$context.path",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integration.latency",
    "integrationStatus": "$context.integration.status",
    "errorMessage": "$context.error.message",
    "validationError": "$context.error.validationErrorString",
    "xrayTraceId": "$context.xrayTraceId",
}

_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")


def offered_routes(document: dict[str, Any], stage: str = names.API_STAGE_NAME) -> list[str]:
    """`METHOD /stage/path` for every operation the OpenAPI document describes."""
    return [
        f"{method.upper()} /{stage}{path}"
        for path, item in document["paths"].items()
        for method in _HTTP_METHODS
        if method in item
    ]


# API Gateway answers a path or method the API does not define with 403 "Missing
# Authentication Token" (its MISSING_AUTHENTICATION_TOKEN response, also given to an unsigned
# request where a route needs IAM authorization). The status stays; the body adds what the API
# offers. A gateway response is plain substitution, not VTL: only constants and $context.
MISSING_ROUTE_BODY_TEMPLATE = json.dumps(
    {
        "message": "Missing Authentication Token",
        "detail": (
            "No such route, or the request lacks the credentials the route requires. "
            "This API offers: " + ", ".join(offered_routes(openapi_document())) + "."
        ),
        "routes": offered_routes(openapi_document()),
        "requestId": "$context.requestId",
    }
)


class TaskApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stack_name: str,
        submit_task: lambda_.IFunction,
        get_task: lambda_.IFunction,
        auth: str = names.DEFAULT_API_AUTH,
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_log_group = logs.LogGroup(
            self,
            "AccessLogs",
            log_group_name=f"/aws/apigateway/{stack_name}-api/access",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=f"{stack_name}-api",
            description="Submit tasks and read their status.",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # Who may call every method (infra/constructs/api_access.py).
            default_method_options=method_options(auth),
            # Access and execution logs need the account's CloudWatch role for API Gateway.
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=names.API_STAGE_NAME,
                throttling_rate_limit=names.API_THROTTLE_RATE,
                throttling_burst_limit=names.API_THROTTLE_BURST,
                tracing_enabled=True,
                metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                access_log_destination=apigw.LogGroupLogDestination(self.access_log_group),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FORMAT)),
            ),
        )
        # ApiUrl (stack output) replaces the output RestApi adds on its own.
        self.api.node.try_remove_child("Endpoint")
        self.api.add_gateway_response(
            "MissingRoute",
            type=apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN,
            status_code="403",
            templates={"application/json": MISSING_ROUTE_BODY_TEMPLATE},
        )
        # The gateway keeps the cheap check (GET's path parameter); the body is submit-task's
        # to judge, so a client learns which field is wrong and why (docs/decisions.md).
        self.validator = apigw.RequestValidator(
            self,
            "Validator",
            rest_api=self.api,
            request_validator_name="validate-parameters",
            validate_request_body=False,
            validate_request_parameters=True,
        )
        self.submission_model = self.api.add_model(
            "TaskSubmissionModel",
            content_type="application/json",
            model_name="TaskSubmission",
            description="POST /tasks body.",
            schema=TASK_SUBMISSION_SCHEMA,
        )
        tasks = self.api.root.add_resource(names.TASKS_RESOURCE)
        # The model documents the body (exported OpenAPI, SDKs); the validator does not apply
        # it: submit-task answers every bad body with the field and the reason (400), and 415
        # for any other content type.
        tasks.add_method(
            "POST",
            apigw.LambdaIntegration(submit_task, proxy=True),
            operation_name="SubmitTask",
            request_validator=self.validator,
            request_models={"application/json": self.submission_model},
        )
        task = tasks.add_resource(f"{{{names.TASK_ID_PATH_PARAMETER}}}")
        task.add_method(
            "GET",
            apigw.LambdaIntegration(get_task, proxy=True),
            operation_name="GetTask",
            request_validator=self.validator,
            request_parameters={f"method.request.path.{names.TASK_ID_PATH_PARAMETER}": True},
        )
        self.tasks_url = self.api.url_for_path(f"/{names.TASKS_RESOURCE}")
        # (method, path) of every route: what the invoke policy grants, and nothing more.
        self.routes = [("POST", tasks.path), ("GET", task.path)]
