"""The CloudWatch dashboard: the console's overview figures, for a deployed stack."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import names

PERIOD = Duration.minutes(1)
WIDTH = 24  # the dashboard grid's width


class TaskDashboard(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stack_name: str,
        state_machine: sfn.StateMachine,
        api: apigw.RestApi,
        task_queue: sqs.IQueue,
        dead_letter_queue: sqs.IQueue,
        alarms: list[cloudwatch.IAlarm],
    ) -> None:
        super().__init__(scope, construct_id)
        total = cloudwatch.Stats.SUM
        outcomes: list[cloudwatch.IMetric] = [
            state_machine.metric_started(statistic=total, period=PERIOD, label="started"),
            state_machine.metric_succeeded(statistic=total, period=PERIOD, label="succeeded"),
            state_machine.metric_failed(statistic=total, period=PERIOD, label="failed"),
            state_machine.metric_timed_out(statistic=total, period=PERIOD, label="timed out"),
            state_machine.metric_aborted(statistic=total, period=PERIOD, label="aborted"),
        ]
        finished = cloudwatch.MathExpression(
            expression="succeeded + failed + timedOut",
            using_metrics={
                "succeeded": state_machine.metric_succeeded(statistic=total, period=PERIOD),
                "failed": state_machine.metric_failed(statistic=total, period=PERIOD),
                "timedOut": state_machine.metric_timed_out(statistic=total, period=PERIOD),
            },
            label="tasks finished / min",
            period=PERIOD,
        )
        submitted = api.metric_count(statistic=total, period=PERIOD, label="API requests / min")
        dead_lettered = cloudwatch.Metric(
            namespace=names.METRICS_NAMESPACE,
            metric_name=names.DEAD_LETTERED_TASKS_METRIC,
            dimensions_map={"service": names.MONITOR_DLQ.service},
            statistic=total,
            label="dead-lettered tasks",
        )
        depth = cloudwatch.Stats.MAXIMUM
        queues = [("task queue", task_queue), ("dead-letter queue", dead_letter_queue)]
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=names.dashboard_name(stack_name),
            default_interval=Duration.hours(3),
            widgets=[
                [
                    cloudwatch.TextWidget(
                        markdown=f"# {stack_name}\nTasks by outcome, throughput, dead "
                        "letters, alarms and queues: the same figures as `ftb console`'s "
                        "overview. Saved Logs Insights queries: folder "
                        f"`{stack_name}/` (follow-one-task, failures-by-error, "
                        "retries-per-task, dead-letters, slowest-tasks).",
                        width=WIDTH,
                        height=2,
                    )
                ],
                [
                    cloudwatch.GraphWidget(
                        title="Tasks by outcome (executions per minute)",
                        left=outcomes,
                        stacked=False,
                        width=12,
                    ),
                    cloudwatch.GraphWidget(
                        title="Throughput", left=[submitted], right=[finished], width=8
                    ),
                    cloudwatch.SingleValueWidget(
                        title="Dead-lettered tasks (time range)",
                        metrics=[dead_lettered],
                        set_period_to_time_range=True,
                        width=4,
                    ),
                ],
                [
                    cloudwatch.AlarmStatusWidget(
                        title="Alarms", alarms=alarms, width=WIDTH, height=4
                    )
                ],
                [
                    cloudwatch.GraphWidget(
                        title="Queue depth (messages visible)",
                        left=[
                            queue.metric_approximate_number_of_messages_visible(
                                statistic=depth, period=PERIOD, label=label
                            )
                            for label, queue in queues
                        ],
                        width=12,
                    ),
                    cloudwatch.GraphWidget(
                        title="Age of the oldest message (seconds)",
                        left=[
                            queue.metric_approximate_age_of_oldest_message(
                                statistic=depth, period=PERIOD, label=label
                            )
                            for label, queue in queues
                        ],
                        width=12,
                    ),
                ],
            ],
        )
