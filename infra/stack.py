"""The stack: composes one construct per capability and publishes what a user needs."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra import names
from infra.config import StackConfig
from infra.constructs.alarms import TaskAlarms
from infra.constructs.api import TaskApi
from infra.constructs.api_access import ApiAccess
from infra.constructs.chaos import ChaosExperiments
from infra.constructs.dashboard import TaskDashboard
from infra.constructs.functions import TaskFunctions
from infra.constructs.queues import TaskQueues
from infra.constructs.saved_queries import SavedQueries
from infra.constructs.task_table import TaskTable
from infra.constructs.workflow import TaskWorkflow
from infra.nag import acknowledge_stack_findings


class FaultTolerantBackendStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: StackConfig) -> None:
        super().__init__(
            scope,
            construct_id,
            stack_name=config.stack_name,
            description=names.STACK_DESCRIPTION,
        )
        table = TaskTable(self, "Tasks", retain=config.retain_table)
        queues = TaskQueues(self, "Queues", stack_name=config.stack_name)
        functions = TaskFunctions(
            self,
            "Functions",
            config=config,
            table=table.table,
            task_queue=queues.task_queue,
            dead_letter_queue=queues.dead_letter_queue,
        )
        workflow = TaskWorkflow(
            self,
            "Workflow",
            stack_name=config.stack_name,
            process_task=functions.process_task,
            dead_letter_queue=queues.dead_letter_queue,
        )
        functions.connect_workflow(workflow.state_machine, workflow.execution_arn_pattern)
        api = TaskApi(
            self,
            "Api",
            stack_name=config.stack_name,
            submit_task=functions.submit_task,
            get_task=functions.get_task,
            auth=config.api_auth,
        )
        access = ApiAccess(self, "ApiAccess", config=config, api=api.api, routes=api.routes)
        alarms = TaskAlarms(
            self,
            "Alarms",
            stack_name=config.stack_name,
            alarm_email=config.alarm_email,
            functions=functions.all,
            state_machine=workflow.state_machine,
            task_queue=queues.task_queue,
            dead_letter_queue=queues.dead_letter_queue,
            api=api.api,
        )
        SavedQueries(
            self,
            "SavedQueries",
            stack_name=config.stack_name,
            function_log_groups=dict(functions.log_groups),
            workflow_log_group=workflow.log_group,
        )
        dashboard = TaskDashboard(
            self,
            "Dashboard",
            stack_name=config.stack_name,
            state_machine=workflow.state_machine,
            api=api.api,
            task_queue=queues.task_queue,
            dead_letter_queue=queues.dead_letter_queue,
            alarms=list(alarms.alarms),
        )
        chaos = (
            ChaosExperiments(
                self,
                "Chaos",
                stack_name=config.stack_name,
                functions=functions.all,
                alarms=alarms.by_id,
            )
            if config.chaos
            else None
        )

        state_machine_arn = workflow.state_machine.state_machine_arn
        outputs = {
            names.OUT_API_URL: (api.api.url, "Base URL of the REST API stage"),
            names.OUT_TASKS_ENDPOINT: (api.tasks_url, "POST tasks here; GET <this>/{taskId}"),
            names.OUT_STATE_MACHINE_ARN: (state_machine_arn, "The task workflow"),
            names.OUT_STATE_MACHINE_CONSOLE_URL: (
                f"https://{self.region}.console.aws.amazon.com/states/home?region={self.region}"
                f"#/statemachines/view/{state_machine_arn}",
                "The task workflow in the Step Functions console",
            ),
            names.OUT_STATE_MACHINE_LOG_GROUP: (
                workflow.log_group.log_group_name,
                "The task workflow's execution log group",
            ),
            names.OUT_TASK_QUEUE_URL: (queues.task_queue.queue_url, "Accepted tasks"),
            names.OUT_DEAD_LETTER_QUEUE_URL: (
                queues.dead_letter_queue.queue_url,
                "Tasks that could not be started or processed",
            ),
            names.OUT_TASKS_TABLE_NAME: (table.table.table_name, "One record per accepted task"),
            names.OUT_ALARM_TOPIC_ARN: (alarms.topic.topic_arn, "Subscribe here for alarms"),
            names.OUT_API_ACCESS_LOG_GROUP: (
                api.access_log_group.log_group_name,
                "API Gateway access logs (JSON)",
            ),
        }
        outputs[names.OUT_API_AUTHORIZATION] = (
            access.mode,
            "Who may call the API: iam (SigV4), apiKey (x-api-key) or none",
        )
        if access.invoke_policy is not None:
            outputs[names.OUT_API_INVOKE_POLICY_ARN] = (
                access.invoke_policy.managed_policy_arn,
                "Attach to a client's role or user: execute-api:Invoke on the two routes only",
            )
        if access.api_key is not None and access.usage_plan is not None:
            outputs[names.OUT_API_KEY_ID] = (
                access.api_key.key_id,
                "The client key's id; its value: aws apigateway get-api-key --include-value",
            )
            outputs[names.OUT_API_USAGE_PLAN_ID] = (
                access.usage_plan.usage_plan_id,
                "The clients' usage plan (throttle and daily quota per key)",
            )
        outputs[names.OUT_DASHBOARD_URL] = (
            f"https://{self.region}.console.aws.amazon.com/cloudwatch/home?region={self.region}"
            f"#dashboards/dashboard/{dashboard.dashboard.dashboard_name}",
            "The overview dashboard in the CloudWatch console",
        )
        if chaos is not None:
            outputs[names.OUT_CHAOS_CONFIG_BUCKET] = (
                chaos.bucket.bucket_name,
                "Where FIS writes the active fault configurations for the FIS Lambda extension",
            )
            outputs[names.OUT_CHAOS_LOG_GROUP] = (
                chaos.log_group.log_group_name,
                "The FIS experiments' logs",
            )
        for spec in names.ALL_FUNCTIONS:
            outputs[names.function_output_id(spec)] = (
                functions.all[spec.key].function_name,
                f"The {spec.key} function (logs: {spec.log_group_name(config.stack_name)})",
            )
        for output_id, (value, description) in outputs.items():
            CfnOutput(self, output_id, value=value, description=description)

        acknowledge_stack_findings(
            self, functions=functions, workflow=workflow, api=api, access=access, chaos=chaos
        )
