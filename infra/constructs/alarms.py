"""Alarms on everything that means a task is failing or stuck, all to one encrypted SNS topic."""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import names

PERIOD = Duration.minutes(5)
# process-task fails transiently FAILURE_RATE of the time by design (0.3): alarm on an error
# rate well above that, not on every error.
PROCESS_TASK_ERROR_RATE_PERCENT = 50
TASK_QUEUE_MAX_AGE_SECONDS = 600
DLQ_MAX_AGE_SECONDS = 900
# Half of the API's requests answered 5xx: an outage, not a transient queue error (503).
API_SERVER_ERROR_RATE = 0.5


class TaskAlarms(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stack_name: str,
        alarm_email: str | None,
        functions: dict[str, lambda_.Function],
        state_machine: sfn.StateMachine,
        task_queue: sqs.IQueue,
        dead_letter_queue: sqs.IQueue,
        api: apigw.RestApi,
    ) -> None:
        super().__init__(scope, construct_id)
        self._stack_name = stack_name
        # A customer managed key: CloudWatch cannot use the AWS managed SNS key to publish.
        self.key = kms.Key(
            self,
            "TopicKey",
            description=f"{stack_name}: encrypts the alarm topic",
            enable_key_rotation=True,
        )
        account = Stack.of(self).account
        cloudwatch_principal = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        # Only on behalf of this account's alarms (no confused deputy).
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[cloudwatch_principal],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": account}},
            )
        )
        self.topic = sns.Topic(
            self,
            "Topic",
            topic_name=f"{stack_name}-alarms",
            display_name=f"{stack_name} alarms",
            master_key=self.key,
            enforce_ssl=True,
        )
        # enforce_ssl creates a topic policy holding only the TLS Deny, which replaces SNS's
        # default policy: without this statement CloudWatch may not publish and every alarm
        # action fails. Only this stack's alarms (all named "<stack>-...") of this account.
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[cloudwatch_principal],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "ArnLike": {
                        "aws:SourceArn": Stack.of(self).format_arn(
                            service="cloudwatch",
                            resource="alarm",
                            resource_name=f"{stack_name}-*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    },
                    "StringEquals": {"aws:SourceAccount": account},
                },
            )
        )
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        self._action = cw_actions.SnsAction(self.topic)
        self.alarms: list[cloudwatch.Alarm] = []
        self.by_id: dict[str, cloudwatch.Alarm] = {}

        dead_lettered = cloudwatch.Metric(
            namespace=names.METRICS_NAMESPACE,
            metric_name=names.DEAD_LETTERED_TASKS_METRIC,
            # Powertools Metrics adds the `service` dimension (POWERTOOLS_SERVICE_NAME).
            dimensions_map={"service": names.MONITOR_DLQ.service},
            statistic=cloudwatch.Stats.SUM,
            period=PERIOD,
        )
        self._alarm("DeadLetteredTasks", dead_lettered, 1, "A task was dead-lettered.")
        self._alarm(
            "DeadLetterQueueDepth",
            dead_letter_queue.metric_approximate_number_of_messages_visible(
                statistic=cloudwatch.Stats.MAXIMUM, period=PERIOD
            ),
            1,
            "The dead-letter queue holds messages the monitor has not drained for 15 minutes.",
            evaluation_periods=3,
        )
        self._alarm(
            "DeadLetterQueueOldestMessage",
            dead_letter_queue.metric_approximate_age_of_oldest_message(
                statistic=cloudwatch.Stats.MAXIMUM, period=PERIOD
            ),
            DLQ_MAX_AGE_SECONDS,
            "A dead-letter message has waited too long for the monitor.",
        )
        self._alarm(
            "TaskQueueOldestMessage",
            task_queue.metric_approximate_age_of_oldest_message(
                statistic=cloudwatch.Stats.MAXIMUM, period=PERIOD
            ),
            TASK_QUEUE_MAX_AGE_SECONDS,
            "Accepted tasks are waiting to be started (starter failing or throttled).",
        )
        self._alarm(
            "ExecutionsFailed",
            state_machine.metric_failed(statistic=cloudwatch.Stats.SUM, period=PERIOD),
            1,
            "A task workflow execution failed.",
        )
        self._alarm(
            "ExecutionsTimedOut",
            state_machine.metric_timed_out(statistic=cloudwatch.Stats.SUM, period=PERIOD),
            1,
            "A task workflow execution timed out.",
        )
        self._alarm(
            "ExecutionsThrottled",
            state_machine.metric_throttled(statistic=cloudwatch.Stats.SUM, period=PERIOD),
            1,
            "Step Functions throttled the task workflow.",
        )
        self._alarm(
            "ApiServerErrorRate",
            # 5XXError is 0 or 1 per request: its average is the share answered 5xx.
            api.metric_server_error(statistic=cloudwatch.Stats.AVERAGE, period=PERIOD),
            API_SERVER_ERROR_RATE,
            "Half or more of the API's requests were answered with a 5xx.",
        )
        for key, fn in functions.items():
            title = "".join(part.capitalize() for part in key.split("-"))
            if key == names.PROCESS_TASK.key:
                errors: cloudwatch.IMetric = cloudwatch.MathExpression(
                    expression="IF(invocations > 0, 100 * errors / invocations, 0)",
                    using_metrics={
                        "errors": fn.metric_errors(statistic=cloudwatch.Stats.SUM, period=PERIOD),
                        "invocations": fn.metric_invocations(
                            statistic=cloudwatch.Stats.SUM, period=PERIOD
                        ),
                    },
                    label="process-task error rate (%)",
                    period=PERIOD,
                )
                self._alarm(
                    f"{title}ErrorRate",
                    errors,
                    PROCESS_TASK_ERROR_RATE_PERCENT,
                    "process-task fails far more often than its simulated failure rate.",
                )
            else:
                self._alarm(
                    f"{title}Errors",
                    fn.metric_errors(statistic=cloudwatch.Stats.SUM, period=PERIOD),
                    1,
                    f"{key} raised errors.",
                )
            self._alarm(
                f"{title}Throttles",
                fn.metric_throttles(statistic=cloudwatch.Stats.SUM, period=PERIOD),
                1,
                f"Lambda throttled {key}.",
            )

    def _alarm(
        self,
        construct_id: str,
        metric: cloudwatch.IMetric,
        threshold: float,
        description: str,
        *,
        evaluation_periods: int = 1,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            alarm_name=f"{self._stack_name}-{construct_id}",
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        self.alarms.append(alarm)
        self.by_id[construct_id] = alarm
        return alarm
