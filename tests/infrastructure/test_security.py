"""Security properties of the whole synthesized stack, whatever construct a resource comes from.

cdk-nag (test_stack_compliance) checks rules one resource at a time; these tests state the
stack-wide promises: no statement grants every action, `*` resources only where AWS offers
nothing narrower (each listed with its reason, and the list holds nothing unused), data
encrypted at rest and in transit, the API throttled, functions invocable only by this API.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from infra import names

# Actions that may be granted on Resource "*": AWS offers no resource-level permission for them.
WILDCARD_RESOURCE_ACTIONS = {
    "xray:PutTraceSegments": "X-Ray has no resource-level permissions (traced functions)",
    "xray:PutTelemetryRecords": "X-Ray has no resource-level permissions (traced functions)",
    "xray:GetSamplingRules": "X-Ray has no resource-level permissions (workflow tracing)",
    "xray:GetSamplingTargets": "X-Ray has no resource-level permissions (workflow tracing)",
    # Step Functions delivers its execution logs through CloudWatch Logs' vended log delivery,
    # whose APIs take no resource ARN; AWS documents this policy with Resource "*".
    "logs:CreateLogDelivery": "workflow logging: log-delivery API without resource ARNs",
    "logs:GetLogDelivery": "workflow logging: log-delivery API without resource ARNs",
    "logs:UpdateLogDelivery": "workflow logging: log-delivery API without resource ARNs",
    "logs:DeleteLogDelivery": "workflow logging: log-delivery API without resource ARNs",
    "logs:ListLogDeliveries": "workflow logging: log-delivery API without resource ARNs",
    "logs:PutResourcePolicy": "workflow logging: grants delivery.logs.amazonaws.com the group",
    "logs:DescribeResourcePolicies": "workflow logging: account-wide listing, no resource ARN",
    "logs:DescribeLogGroups": "workflow logging: account-wide listing, no resource ARN",
}
# Resource policies that may grant a whole service: the KMS key's default statement, which
# delegates the key to the account's IAM (without it the key could become unmanageable).
WHOLE_SERVICE_RESOURCE_POLICY_GRANTS = {("AWS::KMS::Key", "kms:*")}
# AWS managed policies, by role principal: API Gateway's account-level CloudWatch role.
MANAGED_POLICIES = {"apigateway.amazonaws.com": ["AmazonAPIGatewayPushToCloudWatchLogs"]}
ROLE_PRINCIPALS = {"lambda.amazonaws.com", "states.amazonaws.com", "apigateway.amazonaws.com"}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def render(value: Any) -> str:
    """An intrinsic-function value as text: {"Ref": X} -> ${X}, GetAtt -> ${X.Attr}."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Ref" in value:
        return "${" + value["Ref"] + "}"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return "${" + ".".join(value["Fn::GetAtt"]) + "}"
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(render(part) for part in parts)
    raise AssertionError(f"unexpected intrinsic in a policy: {value}")


def identity_statements(stack) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every statement of every identity policy: IAM policies and roles' inline policies."""
    for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for logical_id, resource in stack.of_type(kind).items():
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                yield logical_id, statement
    for logical_id, role in stack.of_type("AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                yield logical_id, statement


RESOURCE_POLICIES = {
    "AWS::SQS::QueuePolicy": "PolicyDocument",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
    "AWS::KMS::Key": "KeyPolicy",
    "AWS::IAM::Role": "AssumeRolePolicyDocument",
}


def resource_statements(stack) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for kind, key in RESOURCE_POLICIES.items():
        for logical_id, resource in stack.of_type(kind).items():
            for statement in resource["Properties"][key]["Statement"]:
                yield kind, logical_id, statement


def _grants_a_whole_service(action: str) -> bool:
    return action == "*" or action.endswith(":*")


def test_no_identity_statement_allows_every_action(stack):
    # Given every Allow statement of every role's policies
    for logical_id, statement in identity_statements(stack):
        assert statement["Effect"] == "Allow", (logical_id, statement)
        # Then it names its actions (no NotAction), none of them "*" or a whole service
        assert "NotAction" not in statement and "NotResource" not in statement, logical_id
        broad = [a for a in _as_list(statement["Action"]) if _grants_a_whole_service(a)]
        assert broad == [], (logical_id, broad)


def test_no_resource_policy_allows_every_action_except_the_keys_default(stack):
    # Given every Allow statement of every resource policy (queues, topic, key, role trust)
    for kind, logical_id, statement in resource_statements(stack):
        if statement["Effect"] != "Allow":
            continue  # a Deny may (and for TLS, must) cover every action
        assert "NotAction" not in statement and "NotPrincipal" not in statement, logical_id
        # Then a whole service is granted only by the listed exception
        for action in _as_list(statement["Action"]):
            if _grants_a_whole_service(action):
                assert (kind, action) in WHOLE_SERVICE_RESOURCE_POLICY_GRANTS, (logical_id, action)


def test_wildcard_resources_only_where_aws_requires_them(stack):
    # Given the identity statements granted on Resource "*"
    used: set[str] = set()
    for logical_id, statement in identity_statements(stack):
        if "*" not in _as_list(statement["Resource"]):
            continue
        actions = set(_as_list(statement["Action"]))
        # Then each of their actions is one AWS offers no resource-level permission for
        assert actions <= set(WILDCARD_RESOURCE_ACTIONS), (
            logical_id,
            sorted(actions - set(WILDCARD_RESOURCE_ACTIONS)),
        )
        used |= actions
    # And the list of exceptions holds nothing the stack no longer needs
    assert used == set(WILDCARD_RESOURCE_ACTIONS)


def test_arn_wildcards_only_select_children_of_the_stacks_own_resources(stack):
    # Given the resource ARNs with a wildcard in them (other than the listed "*" grants)
    workflow = f"{stack.stack_name}-task-workflow"
    allowed = [
        # the executions of the stack's own workflow (their names are the taskIds)
        re.compile(
            r"^arn:\$\{AWS::Partition\}:states:\$\{AWS::Region\}:\$\{AWS::AccountId\}:"
            rf"execution:{re.escape(workflow)}:\*$"
        ),
        # the invoke policy (iam): GET /tasks/{taskId} of this API's stage, the path
        # parameter being `*` in an execute-api ARN
        re.compile(
            r"^arn:\$\{AWS::Partition\}:execute-api:\$\{AWS::Region\}:\$\{AWS::AccountId\}:"
            r"\$\{Api[0-9A-F]{8}\}/\$\{ApiDeploymentStage[A-Za-z0-9]+\}/GET/tasks/\*$"
        ),
    ]
    used: set[str] = set()
    for logical_id, statement in identity_statements(stack):
        for resource in _as_list(statement["Resource"]):
            text = render(resource)
            if text == "*" or "*" not in text:
                continue
            matching = [p for p in allowed if p.match(text)]
            # Then each selects only what belongs to this stack
            assert matching, (logical_id, text)
            used.update(p.pattern for p in matching)
    # And the list of allowed wildcards holds nothing the stack no longer needs
    assert used == {p.pattern for p in allowed}


def test_roles_are_assumed_only_by_this_stacks_aws_services(stack):
    # Given every role's trust policy  Then only AWS service principals of the stack assume it
    for logical_id, role in stack.of_type("AWS::IAM::Role").items():
        for statement in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow" and statement["Action"] == "sts:AssumeRole"
            assert set(statement["Principal"]) == {"Service"}, logical_id
            assert set(_as_list(statement["Principal"]["Service"])) <= ROLE_PRINCIPALS


def test_managed_policies_only_where_listed(stack):
    # Given every role  Then only the listed role carries an AWS managed policy
    for logical_id, role in stack.of_type("AWS::IAM::Role").items():
        props = role["Properties"]
        principal = props["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"]
        attached = [render(arn).rsplit("/", 1)[-1] for arn in props.get("ManagedPolicyArns", [])]
        assert attached == MANAGED_POLICIES.get(principal, []), (logical_id, attached)


def test_queues_table_and_topic_are_encrypted_at_rest(stack):
    # Given the stores of task data and alarms
    queues = stack.of_type("AWS::SQS::Queue")
    assert len(queues) == 2
    for logical_id, queue in queues.items():
        props = queue["Properties"]
        # Then each queue is encrypted (SQS-managed keys or KMS)
        assert props.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props, logical_id
    for logical_id, table in stack.of_type("AWS::DynamoDB::Table").items():
        assert table["Properties"]["SSESpecification"]["SSEEnabled"] is True, logical_id
    for logical_id, topic in stack.of_type("AWS::SNS::Topic").items():
        assert "KmsMasterKeyId" in topic["Properties"], logical_id
    for logical_id, key in stack.of_type("AWS::KMS::Key").items():
        assert key["Properties"]["EnableKeyRotation"] is True, logical_id


def _denies_plain_http(statement: dict[str, Any], service: str) -> bool:
    actions = _as_list(statement["Action"])
    return (
        statement["Effect"] == "Deny"
        and statement["Principal"] in ("*", {"AWS": "*"})
        and statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        and (f"{service}:*" in actions or "*" in actions)
    )


def test_every_queue_refuses_requests_without_tls(stack):
    # Given each queue and the policies attached to it
    policies = stack.of_type("AWS::SQS::QueuePolicy").values()
    for logical_id in stack.of_type("AWS::SQS::Queue"):
        statements = [
            s
            for p in policies
            if {"Ref": logical_id} in p["Properties"]["Queues"]
            for s in p["Properties"]["PolicyDocument"]["Statement"]
        ]
        # Then one statement denies every SQS action to everyone over plain HTTP, on this queue
        denials = [s for s in statements if _denies_plain_http(s, "sqs")]
        assert denials, logical_id
        assert all({"Fn::GetAtt": [logical_id, "Arn"]} in _as_list(s["Resource"]) for s in denials)


def test_the_alarm_topic_refuses_publishing_without_tls(stack):
    for logical_id, policy in stack.of_type("AWS::SNS::TopicPolicy").items():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny"
            and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        ), logical_id


def test_the_stage_is_throttled_for_every_method(stack):
    # Given the API's stage  Then every method of every resource has a rate and a burst limit
    _, stage = stack.only("AWS::ApiGateway::Stage")
    settings = {(s["HttpMethod"], s["ResourcePath"]): s for s in stage["MethodSettings"]}
    throttled = settings[("*", "/*")]
    assert throttled["ThrottlingRateLimit"] == names.API_THROTTLE_RATE > 0
    assert throttled["ThrottlingBurstLimit"] == names.API_THROTTLE_BURST > 0
    # And no method-level setting lifts it
    for setting in settings.values():
        assert setting.get("ThrottlingRateLimit", 1) > 0
        assert setting.get("ThrottlingBurstLimit", 1) > 0
    # And no request or response body is written to the execution logs
    assert all(setting.get("DataTraceEnabled") is False for setting in settings.values())


def test_functions_are_invocable_only_through_this_api(stack):
    # Given every resource-based permission on a function
    permissions = stack.of_type("AWS::Lambda::Permission")
    assert permissions
    api_id, _ = stack.only("AWS::ApiGateway::RestApi")
    for logical_id, permission in permissions.items():
        props = permission["Properties"]
        # Then it lets API Gateway invoke it, from this API only (no confused deputy)
        assert props["Principal"] == "apigateway.amazonaws.com", logical_id
        assert props["Action"] == "lambda:InvokeFunction", logical_id
        assert "${" + api_id + "}/" in render(props["SourceArn"]), logical_id
    # And no function has a public URL
    assert stack.of_type("AWS::Lambda::Url") == {}
