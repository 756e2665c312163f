"""CloudFormation's read operations for the local stack, in the query protocol: DescribeStacks,
ListStacks, ListStackResources, DescribeStackResource, DescribeStackResources, GetTemplate.

Registered before moto (whose own CloudFormation backend knows nothing of this stack), it
answers these operations for every stack name: the local stack, or AWS's `ValidationError`
"Stack with id X does not exist" (CloudFormation API reference, DescribeStacks: a stack is
named by its name or its stack id ARN). Shapes: botocore's CloudFormation service model.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime
from xml.sax.saxutils import escape

from werkzeug.wrappers import Response

from ftb.localcloud.cloudformation.stack import StackDescription, StackResource
from ftb.localcloud.endpoint.calls import AwsCall, query_error, query_response

NAMESPACE = "http://cloudformation.amazonaws.com/doc/2010-05-15/"
# ListStackResources answers at most 100 summaries a page (CloudFormation API reference).
RESOURCES_PAGE = 100
_NOT_CHECKED = (
    "<DriftInformation><StackResourceDriftStatus>NOT_CHECKED</StackResourceDriftStatus>"
    "</DriftInformation>"
)
_STACK_NOT_CHECKED = (
    "<DriftInformation><StackDriftStatus>NOT_CHECKED</StackDriftStatus></DriftInformation>"
)


class StackNotFound(Exception):
    pass


class _Invalid(Exception):
    """A request that fails CloudFormation's validation (the message is AWS's)."""


def timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as CloudFormation's XML carries timestamps."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _el(name: str, value: object) -> str:
    return f"<{name}>{escape(str(value))}</{name}>"


def _members(items: Iterable[str]) -> str:
    return "".join(f"<member>{item}</member>" for item in items)


class CloudFormationApi:
    """A service handler ("cloudformation") for the one stack the local cloud provisioned."""

    operations = frozenset(
        {
            "DescribeStacks",
            "ListStacks",
            "ListStackResources",
            "DescribeStackResource",
            "DescribeStackResources",
            "GetTemplate",
        }
    )

    def __init__(self, stack: StackDescription) -> None:
        self.stack = stack
        self._operations: dict[str, Callable[[AwsCall], Response]] = {
            "DescribeStacks": self._describe_stacks,
            "ListStacks": self._list_stacks,
            "ListStackResources": self._list_stack_resources,
            "DescribeStackResource": self._describe_stack_resource,
            "DescribeStackResources": self._describe_stack_resources,
            "GetTemplate": self._get_template,
        }

    def handle(self, call: AwsCall) -> Response | None:
        if call.protocol != "query":
            return None
        operation = self._operations.get(call.operation or "")
        if operation is None:
            # moto's own CloudFormation knows nothing of this stack: what it would answer
            # (a second stack, "does not exist" for this one) would be wrong, so refuse, in
            # the query protocol's common error for an operation not served (400 InvalidAction).
            return query_error(
                "InvalidAction",
                f"The local cloud does not support CloudFormation {call.operation or '(none)'}: "
                "its stack is the template `ftb local` provisioned; it answers "
                f"{', '.join(sorted(self._operations))}",
            )
        try:
            return operation(call)
        except StackNotFound as missing:
            return query_error("ValidationError", f"Stack with id {missing} does not exist")
        except _Invalid as invalid:
            return query_error("ValidationError", str(invalid))

    # -- finding the stack ----------------------------------------------------------------

    def _named(self, name: str | None) -> StackDescription:
        if name in (self.stack.name, self.stack.stack_id):
            return self.stack
        raise StackNotFound(name or "")

    def _required(self, call: AwsCall, parameter: str) -> str:
        value = call.params().get(parameter)
        if not value:
            raise _Invalid(
                f"1 validation error detected: Value null at '{parameter[0].lower()}"
                f"{parameter[1:]}' failed to satisfy constraint: Member must not be null"
            )
        return value

    # -- operations -----------------------------------------------------------------------

    def _describe_stacks(self, call: AwsCall) -> Response:
        name = call.params().get("StackName")
        stack = self._named(name) if name else self.stack
        return query_response(
            "DescribeStacks",
            f"<Stacks><member>{self._stack_xml(stack)}</member></Stacks>",
            NAMESPACE,
        )

    def _list_stacks(self, call: AwsCall) -> Response:
        params = call.params()
        wanted = {
            value for key, value in params.items() if key.startswith("StackStatusFilter.member.")
        }
        stacks = [self.stack] if not wanted or self.stack.status in wanted else []
        summaries = (
            _el("StackId", s.stack_id)
            + _el("StackName", s.name)
            + (_el("TemplateDescription", s.description) if s.description else "")
            + _el("CreationTime", timestamp(s.created_at))
            + _el("StackStatus", s.status)
            + _STACK_NOT_CHECKED
            for s in stacks
        )
        return query_response(
            "ListStacks", f"<StackSummaries>{_members(summaries)}</StackSummaries>", NAMESPACE
        )

    def _list_stack_resources(self, call: AwsCall) -> Response:
        stack = self._named(self._required(call, "StackName"))
        token = call.params().get("NextToken")
        start = int(token) if token and token.isdigit() else 0
        if token and not token.isdigit():
            return query_error("ValidationError", "Invalid NextToken")
        page = stack.resources[start : start + RESOURCES_PAGE]
        summaries = (
            _el("LogicalResourceId", r.logical_id)
            + _el("PhysicalResourceId", r.physical_id)
            + _el("ResourceType", r.type)
            + _el("LastUpdatedTimestamp", timestamp(stack.created_at))
            + _el("ResourceStatus", r.status)
            + (_el("ResourceStatusReason", r.status_reason) if r.status_reason else "")
            + _NOT_CHECKED
            for r in page
        )
        result = f"<StackResourceSummaries>{_members(summaries)}</StackResourceSummaries>"
        if start + RESOURCES_PAGE < len(stack.resources):
            result += _el("NextToken", start + RESOURCES_PAGE)
        return query_response("ListStackResources", result, NAMESPACE)

    def _describe_stack_resource(self, call: AwsCall) -> Response:
        stack = self._named(self._required(call, "StackName"))
        logical_id = self._required(call, "LogicalResourceId")
        resource = stack.resource(logical_id)
        if resource is None:
            return query_error(
                "ValidationError", f"Resource {logical_id} does not exist for stack {stack.name}"
            )
        detail = (
            self._resource_head(stack, resource)
            + _el("LastUpdatedTimestamp", timestamp(stack.created_at))
            + _el("ResourceStatus", resource.status)
            + (
                _el("ResourceStatusReason", resource.status_reason)
                if resource.status_reason
                else ""
            )
            + (_el("Metadata", json.dumps(resource.metadata)) if resource.metadata else "")
            + _NOT_CHECKED
        )
        return query_response(
            "DescribeStackResource",
            f"<StackResourceDetail>{detail}</StackResourceDetail>",
            NAMESPACE,
        )

    def _describe_stack_resources(self, call: AwsCall) -> Response:
        params = call.params()
        name, physical = params.get("StackName"), params.get("PhysicalResourceId")
        if not name and not physical:
            return query_error(
                "ValidationError", "Either StackName or PhysicalResourceId must be specified"
            )
        if name:
            stack = self._named(name)
        elif any(r.physical_id == physical for r in self.stack.resources):
            stack = self.stack
        else:
            return query_error("ValidationError", f"Stack for {physical} does not exist")
        resources = stack.resources
        if physical:
            resources = [r for r in resources if r.physical_id == physical]
        logical_id = params.get("LogicalResourceId")
        if logical_id:
            resources = [r for r in resources if r.logical_id == logical_id]
            if not resources:
                return query_error(
                    "ValidationError",
                    f"Resource {logical_id} does not exist for stack {stack.name}",
                )
        items = (
            self._resource_head(stack, r)
            + _el("Timestamp", timestamp(stack.created_at))
            + _el("ResourceStatus", r.status)
            + (_el("ResourceStatusReason", r.status_reason) if r.status_reason else "")
            + _NOT_CHECKED
            for r in resources
        )
        return query_response(
            "DescribeStackResources",
            f"<StackResources>{_members(items)}</StackResources>",
            NAMESPACE,
        )

    def _get_template(self, call: AwsCall) -> Response:
        params = call.params()
        stack = self._named(self._required(call, "StackName"))
        if params.get("ChangeSetName"):
            return query_error(
                "ChangeSetNotFound", f"ChangeSet [{params['ChangeSetName']}] does not exist", 404
            )
        stage = params.get("TemplateStage", "Original")
        if stage not in {"Original", "Processed"}:
            return query_error(
                "ValidationError",
                f"1 validation error detected: Value '{stage}' at 'templateStage' failed to "
                "satisfy constraint: Member must satisfy enum value set: [Original, Processed]",
            )
        result = _el("TemplateBody", stack.template_body) + (
            "<StagesAvailable><member>Original</member><member>Processed</member></StagesAvailable>"
        )
        return query_response("GetTemplate", result, NAMESPACE)

    # -- shapes ---------------------------------------------------------------------------

    @staticmethod
    def _resource_head(stack: StackDescription, resource: StackResource) -> str:
        return (
            _el("StackName", stack.name)
            + _el("StackId", stack.stack_id)
            + _el("LogicalResourceId", resource.logical_id)
            + _el("PhysicalResourceId", resource.physical_id)
            + _el("ResourceType", resource.type)
        )

    @staticmethod
    def _stack_xml(stack: StackDescription) -> str:
        parameters = (
            "".join(_el(key, value) for key, value in parameter.items())
            for parameter in stack.parameters
        )
        outputs = (
            "".join(_el(key, value) for key, value in output.items()) for output in stack.outputs
        )
        tags = (_el("Key", key) + _el("Value", value) for key, value in stack.tags.items())
        return (
            _el("StackId", stack.stack_id)
            + _el("StackName", stack.name)
            + (_el("Description", stack.description) if stack.description else "")
            + f"<Parameters>{_members(parameters)}</Parameters>"
            + _el("CreationTime", timestamp(stack.created_at))
            + "<RollbackConfiguration></RollbackConfiguration>"
            + _el("StackStatus", stack.status)
            + _el("DisableRollback", "false")
            + "<NotificationARNs></NotificationARNs>"
            + f"<Outputs>{_members(outputs)}</Outputs>"
            + f"<Tags>{_members(tags)}</Tags>"
            + _el("EnableTerminationProtection", str(stack.termination_protection).lower())
            + _STACK_NOT_CHECKED
        )
