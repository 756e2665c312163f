"""The real stack with what FIS needs, the way AWS documents it
(https://docs.aws.amazon.com/fis/latest/userguide/use-lambda-actions.html): the extension
layer (its ARN from AWS's public SSM parameter), AWS_FIS_CONFIGURATION_LOCATION and
AWS_LAMBDA_EXEC_WRAPPER on the targeted functions, a configuration bucket, a FIS role, and
four `AWS::FIS::ExperimentTemplate`s (tag Name) with a stop condition on a stack alarm each.

`ftb local --app tests.support.chaos_app.app` runs it. No cdk-nag: a test fixture.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import App, RemovalPolicy, Tags
from aws_cdk import aws_fis as fis
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra.app import project_context
from infra.config import StackConfig
from infra.stack import FaultTolerantBackendStack
from tests.support.chaos_app import names as n

CONFIG_PREFIX = "FisConfigs"


class ChaosStack(FaultTolerantBackendStack):
    def __init__(self, scope: Construct, construct_id: str, *, config: StackConfig) -> None:
        super().__init__(scope, construct_id, config=config)
        functions: Any = self.node.find_child("Functions")
        alarms = self.node.find_child("Alarms")
        bucket = s3.Bucket(
            self,
            "FisConfigBucket",
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            removal_policy=RemovalPolicy.DESTROY,
        )
        layer = lambda_.LayerVersion.from_layer_version_arn(
            self,
            "FisExtension",
            ssm.StringParameter.value_for_string_parameter(self, n.FIS_LAYER_PARAMETER),
        )
        targets = {
            "process-task": functions.process_task,
            "start-execution": functions.start_execution,
            "submit-task": functions.submit_task,
        }
        for function in targets.values():
            function.add_layers(layer)
            function.add_environment(
                "AWS_FIS_CONFIGURATION_LOCATION", f"{bucket.bucket_arn}/{CONFIG_PREFIX}/"
            )
            function.add_environment("AWS_LAMBDA_EXEC_WRAPPER", "/opt/aws-fis/bootstrap")
            bucket.grant_read(function, f"{CONFIG_PREFIX}/*")
        Tags.of(functions.process_task).add(*n.TARGET_TAG)
        role = iam.Role(self, "FisRole", assumed_by=iam.ServicePrincipal("fis.amazonaws.com"))
        bucket.grant_put(role, f"{CONFIG_PREFIX}/*")
        bucket.grant_delete(role, f"{CONFIG_PREFIX}/*")
        role.add_to_policy(
            iam.PolicyStatement(actions=["lambda:GetFunction", "tag:GetResources"], resources=["*"])
        )

        def alarm_arn(name: str) -> str:
            return str(alarms.node.find_child(n.STOP_ALARMS[name]).alarm_arn)  # type: ignore[attr-defined]

        def template(
            name: str,
            description: str,
            target: fis.CfnExperimentTemplate.ExperimentTemplateTargetProperty,
            action_id: str,
            parameters: dict[str, str],
        ) -> None:
            fis.CfnExperimentTemplate(
                self,
                "".join(part.capitalize() for part in name.split("-")),
                description=description,
                role_arn=role.role_arn,
                targets={"Functions": target},
                actions={
                    "Inject": fis.CfnExperimentTemplate.ExperimentTemplateActionProperty(
                        action_id=action_id,
                        parameters=parameters,
                        targets={"Functions": "Functions"},
                    )
                },
                stop_conditions=[
                    fis.CfnExperimentTemplate.ExperimentTemplateStopConditionProperty(
                        source="aws:cloudwatch:alarm", value=alarm_arn(name)
                    )
                ],
                tags={"Name": name},
            )

        def by_arn(key: str) -> fis.CfnExperimentTemplate.ExperimentTemplateTargetProperty:
            return fis.CfnExperimentTemplate.ExperimentTemplateTargetProperty(
                resource_type="aws:lambda:function",
                resource_arns=[targets[key].function_arn],
                selection_mode="ALL",
            )

        by_tag = fis.CfnExperimentTemplate.ExperimentTemplateTargetProperty(
            resource_type="aws:lambda:function",
            resource_tags={n.TARGET_TAG[0]: n.TARGET_TAG[1]},
            selection_mode="ALL",
        )
        template(
            n.PARTIAL_FAILURE,
            "process-task fails part of its invocations; the workflow's retries absorb it",
            by_tag,
            "aws:lambda:invocation-error",
            {
                "duration": n.PARTIAL_DURATION,
                "invocationPercentage": str(n.PARTIAL_PERCENT),
                "preventExecution": "true",
            },
        )
        template(
            n.TOTAL_FAILURE,
            "process-task fails every invocation: every task dead-lettered, logged, alarmed",
            by_tag,
            "aws:lambda:invocation-error",
            {
                "duration": n.TOTAL_DURATION,
                "invocationPercentage": "100",
                "preventExecution": "true",
            },
        )
        template(
            n.START_DELAY,
            "start-execution starts late; the task queue absorbs it",
            by_arn("start-execution"),
            "aws:lambda:invocation-add-delay",
            {
                "duration": n.DELAY_DURATION,
                "invocationPercentage": "100",
                "startupDelayMilliseconds": str(n.DELAY_MILLISECONDS),
            },
        )
        template(
            n.SUBMIT_ERRORS,
            "submit-task answers errors to part of its callers; nothing is half-accepted",
            by_arn("submit-task"),
            "aws:lambda:invocation-http-integration-response",
            {
                "duration": n.SUBMIT_DURATION,
                "invocationPercentage": str(n.SUBMIT_PERCENT),
                "preventExecution": "true",
                "statusCode": str(n.SUBMIT_STATUS),
                "contentTypeHeader": "application/json",
            },
        )


def main() -> None:
    app = App(context=project_context())
    config = StackConfig.from_context(app.node.try_get_context)
    ChaosStack(app, config.stack_name, config=config)
    app.synth()


if __name__ == "__main__":
    main()
