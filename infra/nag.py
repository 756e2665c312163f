"""cdk-nag (AwsSolutions) acknowledgements, each on the resource it concerns, with its reason.

cdk-nag 3 runs as a CDK policy-validation plugin: any finding not acknowledged here fails
synthesis. An IAM5 acknowledgement names the exact wildcard it accepts (`Rule[finding]`), so
a new wildcard is still reported.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct

from infra import names

if TYPE_CHECKING:
    from infra.constructs.api import TaskApi
    from infra.constructs.api_access import ApiAccess
    from infra.constructs.chaos import ChaosExperiments
    from infra.constructs.functions import TaskFunctions
    from infra.constructs.workflow import TaskWorkflow

PACK = "AwsSolutions"

XRAY_REASON = (
    "Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no "
    "resource-level permissions, so X-Ray requires Resource '*'."
)


def acknowledge(scope: IConstruct, rule: str, reason: str, finding: str | None = None) -> None:
    """Acknowledge `rule` (or one finding of it, `rule[finding]`) on `scope`."""
    rule_id = f"{PACK}::{rule}[{finding}]" if finding else f"{PACK}::{rule}"
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def _policy(role_owner: IConstruct) -> IConstruct:
    """The DefaultPolicy resource of a role: where IAM findings are reported."""
    return role_owner.node.find_child("DefaultPolicy").node.find_child("Resource")


def acknowledge_stack_findings(
    stack: Stack,
    *,
    functions: TaskFunctions,
    workflow: TaskWorkflow,
    api: TaskApi,
    access: ApiAccess,
    chaos: ChaosExperiments | None = None,
) -> None:
    for key, fn in functions.all.items():
        assert fn.role is not None
        acknowledge(_policy(fn.role), "AwsSolutions-IAM5", f"{key}: {XRAY_REASON}", "Resource::*")

    execution_finding = "Resource::" + _render(stack.resolve(workflow.execution_arn_pattern))
    for fn in (functions.get_task, functions.submit_task):
        assert fn.role is not None
        acknowledge(
            _policy(fn.role),
            "AwsSolutions-IAM5",
            "states:DescribeExecution on the executions of the task workflow only: execution "
            "names are task ids, unknown until a task is submitted.",
            execution_finding,
        )

    acknowledge(
        _policy(workflow.state_machine.role),
        "AwsSolutions-IAM5",
        "Step Functions logging (logs:CreateLogDelivery and related) and X-Ray tracing support "
        "no resource-level permissions; both require Resource '*'.",
        "Resource::*",
    )

    rest_api = api.api
    acknowledge(
        rest_api.node.find_child("CloudWatchRole"),
        "AwsSolutions-IAM4",
        "API Gateway's account-level CloudWatch role: AmazonAPIGatewayPushToCloudWatchLogs is "
        "the policy AWS documents for it; it lets API Gateway write access and execution logs.",
        "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
        "AmazonAPIGatewayPushToCloudWatchLogs",
    )
    _acknowledge_authorization(stack, rest_api, access)
    if chaos is not None:
        _acknowledge_chaos(stack, chaos)
    api_resource = rest_api.node.default_child
    assert api_resource is not None
    acknowledge(
        api_resource,
        "AwsSolutions-APIG2",
        "The validator checks request parameters only: submit-task is the one validator of a "
        "body, so a client gets the field and the reason (a gateway response cannot carry "
        "them); it parses strictly and checks before any side effect, and the stage's "
        "throttling bounds what bad bodies cost (docs/decisions.md).",
    )
    acknowledge(
        rest_api.deployment_stage,
        "AwsSolutions-APIG3",
        "No WAF web ACL: the stage's rate/burst throttling bounds abuse, and submit-task "
        "validates every body before any side effect (docs/decisions.md: the function is the "
        "one validator of the body); a web ACL adds a fixed monthly cost this sample does not "
        "need.",
    )


def _acknowledge_authorization(stack: Stack, rest_api: Any, access: ApiAccess) -> None:
    """APIG4 (no authorization) is met by the default, `iam`; only the modes chosen by name
    acknowledge it. COG4 asks for a Cognito user pool authorizer: the callers of this API are
    AWS principals (services, roles), not end users, so IAM takes its place."""
    for method in rest_api.methods:
        route = f"{method.http_method} {method.resource.path}"
        if access.mode == names.API_AUTH_IAM:
            acknowledge(
                method,
                "AwsSolutions-COG4",
                f"{route}: AWS_IAM (SigV4) authorization; the callers are AWS principals, not "
                "users of a Cognito user pool (docs/decisions.md, API authorization).",
            )
            continue
        why = (
            "API key and usage plan (context apiAuth=apiKey, chosen by name)"
            if access.mode == names.API_AUTH_API_KEY
            else "open API (context apiAuth=none, chosen by name; synthesis warns)"
        )
        for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
            acknowledge(method, rule, f"{route}: {why}; the default, iam, meets this rule.")
    if access.invoke_policy is not None:
        invoke_finding = "Resource::" + _render(
            stack.resolve(
                rest_api.arn_for_execute_api(
                    "GET", f"/{names.TASKS_RESOURCE}/*", rest_api.deployment_stage.stage_name
                )
            )
        )
        acknowledge(
            access.invoke_policy.node.default_child or access.invoke_policy,
            "AwsSolutions-IAM5",
            "GET /tasks/{taskId}: a path parameter is `*` in an execute-api ARN; the grant is "
            "this one route of this API and stage.",
            invoke_finding,
        )


def _acknowledge_chaos(stack: Stack, chaos: ChaosExperiments) -> None:
    """The FIS Lambda actions' documented permissions (use-lambda-actions.html)."""
    configurations = "Resource::" + _render(
        stack.resolve(chaos.bucket.arn_for_objects(f"{names.FIS_CONFIG_PREFIX}*"))
    )
    for key, fn in chaos.targeted.items():
        assert fn.role is not None
        acknowledge(
            _policy(fn.role),
            "AwsSolutions-IAM5",
            f"{key}: the FIS Lambda extension reads the fault configurations FIS writes under "
            "one folder of the chaos bucket; their names are FIS's, unknown in advance.",
            configurations,
        )
    acknowledge(
        _policy(chaos.role),
        "AwsSolutions-IAM5",
        "FIS writes and deletes the fault configurations under one folder of the chaos "
        "bucket; their names are FIS's, unknown in advance.",
        configurations,
    )
    acknowledge(
        _policy(chaos.role),
        "AwsSolutions-IAM5",
        "tag:GetResources (target resolution) and the CloudWatch Logs delivery calls of "
        "experiment logging support no resource-level permissions; FIS documents them on '*'.",
        "Resource::*",
    )
    bucket = chaos.bucket.node.default_child
    assert bucket is not None
    acknowledge(
        bucket,
        "AwsSolutions-S1",
        "No server access logs: the bucket holds only FIS's transient fault configurations "
        "(written and deleted by the experiment role, read by the extension, expired after a "
        "day); an access-log bucket would log FIS's own polling and cost more than it tells.",
    )


def _render(resolved: Any) -> str:
    """A resolved ARN as cdk-nag prints it: {"Ref": "AWS::Region"} becomes <AWS::Region>,
    {"Fn::GetAtt": ["Bucket", "Arn"]} becomes <Bucket.Arn>."""
    if isinstance(resolved, str):
        return resolved
    parts = resolved["Fn::Join"][1]
    return "".join(
        part
        if isinstance(part, str)
        else f"<{part['Ref']}>"
        if "Ref" in part
        else f"<{'.'.join(part['Fn::GetAtt'])}>"
        if "Fn::GetAtt" in part
        else json.dumps(part, separators=(",", ":"))
        for part in parts
    )
