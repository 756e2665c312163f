"""The task workflow: a Standard state machine defined by statemachine/task_workflow.asl.json."""

from __future__ import annotations

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import names


class TaskWorkflow(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stack_name: str,
        process_task: lambda_.IFunction,
        dead_letter_queue: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        self.state_machine_name = f"{stack_name}-task-workflow"
        self.log_group = logs.LogGroup(
            self,
            "LogGroup",
            # The /aws/vendedlogs/ prefix keeps the log delivery resource policy small.
            log_group_name=f"/aws/vendedlogs/states/{self.state_machine_name}",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.DESTROY,
        )
        # The ASL file is the one source of the workflow; the stack only fills its placeholders.
        definition = names.ASL_PATH.read_text(encoding="utf-8")
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=self.state_machine_name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_string(definition),
            definition_substitutions={
                names.SUB_PROCESS_TASK_ARN: process_task.function_arn,
                names.SUB_DEAD_LETTER_QUEUE_URL: dead_letter_queue.queue_url,
            },
            # Every state transition, without inputs and outputs: payloads stay in the
            # execution history (access-controlled) instead of being copied into logs.
            logs=sfn.LogOptions(
                destination=self.log_group,
                level=sfn.LogLevel.ALL,
                include_execution_data=False,
            ),
            tracing_enabled=True,
        )
        # Every execution of this state machine (executions are named after their taskId).
        self.execution_arn_pattern = Stack.of(self).format_arn(
            service="states",
            resource="execution",
            resource_name=f"{self.state_machine_name}:*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        # Exactly what the definition calls: process-task (its unqualified ARN only, not
        # grant_invoke's versions/aliases `ARN:*`) and a SendMessage to the DLQ.
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"], resources=[process_task.function_arn]
            )
        )
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["sqs:SendMessage"], resources=[dead_letter_queue.queue_arn]
            )
        )
