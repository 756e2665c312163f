"""The state machine: Standard, the ASL file with its placeholders filled, logs, tracing, role."""

from __future__ import annotations

import json
import re
from typing import Any

from infra import names

PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def _state_machine(stack):
    return stack.only("AWS::StepFunctions::StateMachine")


def test_state_machine_is_standard_and_named(stack):
    # Given the state machine  Then it is a Standard workflow named after the stack
    _, props = _state_machine(stack)
    assert props["StateMachineType"] == "STANDARD"
    assert props["StateMachineName"] == f"{stack.stack_name}-task-workflow"


def test_definition_is_the_asl_file_with_its_placeholders_filled(stack):
    # Given the ASL file, the one source of the workflow
    asl_text = names.ASL_PATH.read_text(encoding="utf-8")
    _, props = _state_machine(stack)
    substitutions = props["DefinitionSubstitutions"]
    # Then the template carries the file unchanged, and substitutes exactly its placeholders:
    # process-task's ARN and the DLQ's URL
    assert props["DefinitionString"] == asl_text
    assert set(substitutions) == set(PLACEHOLDER.findall(asl_text))
    assert substitutions == {
        names.SUB_PROCESS_TASK_ARN: {"Fn::GetAtt": [stack.function_id(names.PROCESS_TASK), "Arn"]},
        names.SUB_DEAD_LETTER_QUEUE_URL: {"Ref": stack.dead_letter_queue_id},
    }
    # When CloudFormation resolves the substitutions (simulated with stand-in values)
    resolved_values = {
        names.SUB_PROCESS_TASK_ARN: "arn:aws:lambda:us-east-1:123456789012:function:pt",
        names.SUB_DEAD_LETTER_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
    }
    deployed = json.loads(
        PLACEHOLDER.sub(lambda m: resolved_values[m.group(1)], props["DefinitionString"])
    )
    # Then the deployed definition is the file's workflow with those values in place
    expected = json.loads(asl_text)
    expected["States"]["ProcessTask"]["Parameters"]["FunctionName"] = resolved_values[
        names.SUB_PROCESS_TASK_ARN
    ]
    expected["States"]["SendToDeadLetterQueue"]["Parameters"]["QueueUrl"] = resolved_values[
        names.SUB_DEAD_LETTER_QUEUE_URL
    ]
    assert deployed == expected


def test_state_machine_logs_every_event_without_execution_data(stack):
    # Given the state machine's logging configuration
    _, props = _state_machine(stack)
    logging = props["LoggingConfiguration"]
    # Then every event is logged, payloads are not copied into the logs
    assert logging["Level"] == "ALL"
    assert logging["IncludeExecutionData"] is False
    # And the log group is a vended-logs group with retention
    arn = logging["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]
    log_group = stack.props(arn["Fn::GetAtt"][0])
    assert log_group["LogGroupName"] == f"/aws/vendedlogs/states/{stack.stack_name}-task-workflow"
    assert log_group["RetentionInDays"] == 30


def test_state_machine_is_traced(stack):
    _, props = _state_machine(stack)
    assert props["TracingConfiguration"] == {"Enabled": True}


def test_state_machine_role_may_invoke_process_task_and_send_to_the_dlq_only(stack):
    # Given the state machine's role and its policies
    _, props = _state_machine(stack)
    role_id = props["RoleArn"]["Fn::GetAtt"][0]
    role = stack.props(role_id)
    statements = stack.policy_statements_of_role(role_id)
    process_task_arn = {"Fn::GetAtt": [stack.function_id(names.PROCESS_TASK), "Arn"]}
    # Then it is assumable by Step Functions only and has no managed policy
    assert "ManagedPolicyArns" not in role
    assert [s["Principal"] for s in role["AssumeRolePolicyDocument"]["Statement"]] == [
        {"Service": "states.amazonaws.com"}
    ]
    by_service: dict[str, Any] = {}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        for action in stack.actions_of(statement):
            by_service.setdefault(action.split(":")[0], []).append(
                (action, stack.resources_of(statement))
            )
    # And it may invoke exactly process-task's unqualified ARN, the one the definition calls
    # (no versions/aliases `ARN:*`)
    assert by_service["lambda"] == [("lambda:InvokeFunction", [process_task_arn])]
    # And send messages to exactly the DLQ, nothing else on SQS
    assert by_service["sqs"] == [
        ("sqs:SendMessage", [{"Fn::GetAtt": [stack.dead_letter_queue_id, "Arn"]}])
    ]
    # And otherwise only deliver its logs and traces (services without resource-level ARNs)
    assert set(by_service) == {"lambda", "sqs", "logs", "xray"}
    for service in ("logs", "xray"):
        assert all(resources == ["*"] for _, resources in by_service[service])
    assert {a for a, _ in by_service["logs"]} <= {
        "logs:CreateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:DescribeLogGroups",
        "logs:DescribeResourcePolicies",
        "logs:GetLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:UpdateLogDelivery",
    }


def test_only_the_starter_may_start_executions_and_only_the_api_may_describe_them(stack):
    # Given every IAM policy in the stack
    grants: dict[str, list[str]] = {}
    for policy in stack.of_type("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            for action in stack.actions_of(statement):
                if action.startswith("states:"):
                    roles = [r["Ref"] for r in policy["Properties"]["Roles"]]
                    grants.setdefault(action, []).extend(roles)
    # Then StartExecution belongs to the starter and DescribeExecution to submit/get only
    assert {action: sorted(roles) for action, roles in grants.items()} == {
        "states:StartExecution": [stack.role_id_of_function(names.START_EXECUTION)],
        "states:DescribeExecution": sorted(
            [
                stack.role_id_of_function(names.SUBMIT_TASK),
                stack.role_id_of_function(names.GET_TASK),
            ]
        ),
    }
