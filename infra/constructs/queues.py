"""The task queue (API -> starter) and the dead-letter queue (intake redrive + workflow Catch)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import names


class TaskQueues(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stack_name: str) -> None:
        super().__init__(scope, construct_id)
        # SQS-managed SSE: encrypted at rest with no key policy to maintain; Step Functions,
        # Lambda and SQS redrive all work with it without extra KMS grants.
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            queue_name=f"{stack_name}-dead-letter-queue",
            retention_period=Duration.days(names.DLQ_RETENTION_DAYS),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            # The monitor's timeout, times 6, as for any Lambda-consumed queue.
            visibility_timeout=Duration.seconds(6 * names.MONITOR_DLQ.timeout_seconds),
        )
        self.task_queue = sqs.Queue(
            self,
            "TaskQueue",
            queue_name=f"{stack_name}-task-queue",
            retention_period=Duration.days(names.TASK_QUEUE_RETENTION_DAYS),
            visibility_timeout=Duration.seconds(names.TASK_QUEUE_VISIBILITY_SECONDS),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letter_queue,
                max_receive_count=names.TASK_QUEUE_MAX_RECEIVE_COUNT,
            ),
        )
