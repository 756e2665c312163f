"""Once the stack is provisioned and its pollers run: the endpoint's handlers that read them,
the CloudFormation stack and Lambda's control plane for the stack's functions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ftb.localcloud.cloudformation import CloudFormationApi, describe_stack
from ftb.localcloud.endpoint import AwsEndpoint
from ftb.localcloud.event_sources import SqsPoller
from ftb.localcloud.lambda_api.control_api import LambdaControlApi
from ftb.localcloud.lambda_api.event_source_mappings import EventSourceMappingApi
from ftb.localcloud.lambda_api.function_api import FunctionSubresourceApi
from ftb.localcloud.lambda_api.function_resources import function_resources
from ftb.localcloud.provision import LocalStack
from ftb.localcloud.template import Resolver, Template


def register_control_plane(
    endpoint: AwsEndpoint,
    functions: LambdaControlApi | None,
    template: Template,
    resolver: Resolver,
    stack: LocalStack,
    outputs: dict[str, Any],
    pollers: Sequence[SqsPoller],
    created_at: datetime,
) -> None:
    """Register the stack (cloudformation) and the functions' control plane (lambda)."""
    context = resolver.context
    endpoint.register(
        "cloudformation",
        CloudFormationApi(
            describe_stack(template, resolver, outputs, stack.not_emulated, created_at)
        ),
    )
    arns = {spec.name: spec.arn for spec in stack.functions.values()}

    def function_arn(name: str) -> str:
        return arns.get(name) or (
            f"arn:{context.partition}:lambda:{context.region}:{context.account_id}:function:{name}"
        )

    endpoint.register(
        "lambda", EventSourceMappingApi(pollers, function_arn, context.region, context.account_id)
    )
    if functions is not None:
        resources = function_resources(template, resolver, stack.functions)
        functions.facts = resources  # GetFunction's Tags, the configuration's Role
        endpoint.register(
            "lambda",
            FunctionSubresourceApi(functions.runtime, resources, functions.configuration),
        )
