"""The five Lambda functions, their roles, log groups and event sources, with least privilege.

Every function: the current Python runtime on arm64, the code root `handlers/`, the Powertools
layer from its public SSM parameter, active tracing, its own log group with retention, and a
role of its own that holds only what its handler calls (no managed policies).
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import names
from infra.config import StackConfig

# The newest Python runtime of the installed aws-cdk-lib (and of the Powertools layer).
RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
LOG_RETENTION = logs.RetentionDays.ONE_MONTH


def powertools_layer_parameter(runtime: lambda_.Runtime = RUNTIME) -> str:
    return names.POWERTOOLS_LAYER_PARAMETER.format(arch="arm64", runtime=runtime.name)


class TaskFunctions(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StackConfig,
        table: dynamodb.ITable,
        task_queue: sqs.IQueue,
        dead_letter_queue: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        # A CloudFormation parameter of type AWS::SSM::Parameter::Value<String>: resolved at
        # deploy time in the target region, so synth needs no account and no lookup.
        layer_arn = ssm.StringParameter.value_for_string_parameter(
            self, powertools_layer_parameter()
        )
        self._layer = lambda_.LayerVersion.from_layer_version_arn(
            self, "PowertoolsLayer", layer_arn
        )
        self._code = lambda_.Code.from_asset(str(names.HANDLERS_DIR), exclude=names.ASSET_EXCLUDES)
        self.log_groups: dict[str, logs.LogGroup] = {}

        queue_env = {"TASK_QUEUE_URL": task_queue.queue_url}
        table_env = {"TASKS_TABLE_NAME": table.table_name}

        self.submit_task = self._function(names.SUBMIT_TASK, {**table_env, **queue_env})
        self.get_task = self._function(names.GET_TASK, {**table_env, **queue_env})
        self.start_execution = self._function(names.START_EXECUTION, dict(queue_env))
        process_env = {"FAILURE_RATE": config.failure_rate}
        if config.failure_seed is not None:
            process_env["FAILURE_SEED"] = config.failure_seed
        self.process_task = self._function(names.PROCESS_TASK, process_env)
        self.monitor_dlq = self._function(names.MONITOR_DLQ, dict(table_env))

        # submit-task: conditional put, read-back on a duplicate, flag `enqueued`; enqueue.
        table.grant(self.submit_task, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
        # SendMessage only (grant_send_messages adds GetQueueAttributes/GetQueueUrl, never
        # called); the queue uses SQS-managed SSE, so no KMS permission is needed.
        task_queue.grant(self.submit_task, "sqs:SendMessage")
        # get-task: read the record.
        table.grant(self.get_task, "dynamodb:GetItem")
        # monitor-dlq: mark an intake dead letter on its task record.
        table.grant(self.monitor_dlq, "dynamodb:UpdateItem")

        # The starter consumes the task queue (the mapping grants receive/delete/change
        # visibility, which is also how a throttled record's backoff is applied).
        self.start_execution.add_event_source(
            event_sources.SqsEventSource(
                task_queue,
                batch_size=names.STARTER_BATCH_SIZE,
                max_batching_window=Duration.seconds(names.STARTER_BATCH_WINDOW_SECONDS),
                report_batch_item_failures=True,
                max_concurrency=names.STARTER_MAX_CONCURRENCY,
            )
        )
        self.monitor_dlq.add_event_source(
            event_sources.SqsEventSource(
                dead_letter_queue,
                batch_size=names.MONITOR_BATCH_SIZE,
                report_batch_item_failures=True,
                max_concurrency=names.MONITOR_MAX_CONCURRENCY,
            )
        )

    @property
    def all(self) -> dict[str, lambda_.Function]:
        return {
            names.SUBMIT_TASK.key: self.submit_task,
            names.GET_TASK.key: self.get_task,
            names.START_EXECUTION.key: self.start_execution,
            names.PROCESS_TASK.key: self.process_task,
            names.MONITOR_DLQ.key: self.monitor_dlq,
        }

    def connect_workflow(self, state_machine: sfn.IStateMachine, execution_arns: str) -> None:
        """Give the functions that talk to the workflow its ARN and exactly the calls they make."""
        for fn in (self.submit_task, self.get_task, self.start_execution):
            fn.add_environment("STATE_MACHINE_ARN", state_machine.state_machine_arn)
        state_machine.grant_start_execution(self.start_execution)
        # A task's status = DescribeExecution of the execution named after it; submit-task
        # reports the current status when a duplicate arrives.
        for fn in (self.get_task, self.submit_task):
            iam.Grant.add_to_principal(
                grantee=fn, actions=["states:DescribeExecution"], resource_arns=[execution_arns]
            )

    def _function(self, spec: names.FunctionSpec, environment: dict[str, str]) -> lambda_.Function:
        stack_name = self._config.stack_name
        scope = Construct(self, spec.key)
        log_group = logs.LogGroup(
            scope,
            "LogGroup",
            log_group_name=spec.log_group_name(stack_name),
            retention=LOG_RETENTION,
            # Named log groups must go with the stack, or a redeploy collides with them.
            removal_policy=RemovalPolicy.DESTROY,
        )
        role = iam.Role(
            scope,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{spec.key}: its log group, X-Ray, and the calls its handler makes",
        )
        log_group.grant_write(role)
        fn = lambda_.Function(
            scope,
            "Function",
            function_name=spec.function_name(stack_name),
            description=spec.description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=self._code,
            handler=spec.handler,
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_seconds),
            role=role,
            layers=[self._layer],
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            environment={
                **environment,
                "POWERTOOLS_SERVICE_NAME": spec.service,
                "POWERTOOLS_METRICS_NAMESPACE": names.METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": self._config.log_level,
            },
        )
        self.log_groups[spec.key] = log_group
        return fn
