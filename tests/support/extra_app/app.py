"""The real stack, extended: a queue (with its DLQ), a function and an API route more.

`python -m tests.support.extra_app.app` synthesizes it (CDK_OUTDIR set by `ftb.localcloud.synth`).
The e2e suite runs it with `ftb local --app tests.support.extra_app.app` to show that a
template with new resources runs locally with no change to ftb. No cdk-nag here: the extra
resources are test fixtures, not production infrastructure.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import App, CfnOutput, Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.app import project_context
from infra.config import StackConfig
from infra.stack import FaultTolerantBackendStack
from tests.support.extra_app.names import (
    EXTRA_FUNCTION_NAME,
    EXTRA_MAX_RECEIVE_COUNT,
    EXTRA_TIMEOUT_SECONDS,
)

FUNCTIONS_DIR = Path(__file__).resolve().parent / "functions"


class ExtendedStack(FaultTolerantBackendStack):
    def __init__(self, scope: Construct, construct_id: str, *, config: StackConfig) -> None:
        super().__init__(scope, construct_id, config=config)
        dead_letters = sqs.Queue(self, "ExtraDeadLetterQueue")
        queue = sqs.Queue(
            self,
            "ExtraQueue",
            visibility_timeout=Duration.seconds(EXTRA_TIMEOUT_SECONDS),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=dead_letters, max_receive_count=EXTRA_MAX_RECEIVE_COUNT
            ),
        )
        function = lambda_.Function(
            self,
            "ExtraFunction",
            function_name=EXTRA_FUNCTION_NAME,
            runtime=lambda_.Runtime.PYTHON_3_12,
            handler="extra.handler",
            code=lambda_.Code.from_asset(str(FUNCTIONS_DIR)),
            timeout=Duration.seconds(EXTRA_TIMEOUT_SECONDS),
            environment={"EXTRA_QUEUE_URL": queue.queue_url, "GREETING": "hello"},
        )
        function.add_event_source(
            event_sources.SqsEventSource(queue, batch_size=5, report_batch_item_failures=True)
        )
        api: apigw.RestApi = self.node.find_child("Api").api  # type: ignore[attr-defined]
        extra = api.root.add_resource("extra").add_resource("{name}")
        extra.add_method("GET", apigw.LambdaIntegration(function))
        CfnOutput(self, "ExtraQueueUrl", value=queue.queue_url)
        CfnOutput(self, "ExtraDeadLetterQueueUrl", value=dead_letters.queue_url)
        CfnOutput(self, "ExtraFunctionName", value=function.function_name)


def main() -> None:
    app = App(context=project_context())
    config = StackConfig.from_context(app.node.try_get_context)
    ExtendedStack(app, config.stack_name, config=config)
    app.synth()


if __name__ == "__main__":
    main()
