"""AWS FIS experiments on the stack's functions (context chaos=true only).

What the FIS Lambda actions need, as AWS documents it
(https://docs.aws.amazon.com/fis/latest/userguide/use-lambda-actions.html):
- an S3 location FIS writes active fault configurations to and the extension reads;
- on each targeted function: the extension layer (its ARN a public SSM parameter), the
  environment AWS_FIS_CONFIGURATION_LOCATION (the folder's S3 ARN) and AWS_LAMBDA_EXEC_WRAPPER
  (/opt/aws-fis/bootstrap), and read access to the folder;
- an experiment role that may write and delete the configurations, read the functions, and
  look up tags; one experiment template per scenario, stopped by one of the stack's alarms.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_fis as fis
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra import names
from infra.experiments import EXPERIMENTS, RESOURCE_TYPE, TARGET_KEY, TARGETED_FUNCTIONS

# use-lambda-actions.html: with preventExecution, wait for an in-flight poll so the extension
# has the current fault configuration before it decides (AWS's example value).
POLL_MAX_WAIT_MILLISECONDS = "2000"
# Fault configurations live for an experiment; FIS deletes them at its end. Leftovers expire.
CONFIG_EXPIRY = Duration.days(1)


def fis_extension_parameter(arch: str = "arm64") -> str:
    return names.FIS_EXTENSION_LAYER_PARAMETER.format(arch=arch)


class ChaosExperiments(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stack_name: str,
        functions: dict[str, lambda_.Function],
        alarms: dict[str, cloudwatch.Alarm],
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.bucket = s3.Bucket(
            self,
            "ConfigurationBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=CONFIG_EXPIRY)],
            removal_policy=RemovalPolicy.DESTROY,
        )
        prefix = names.FIS_CONFIG_PREFIX
        configurations = self.bucket.arn_for_objects(f"{prefix}*")
        location = f"arn:{stack.partition}:s3:::{self.bucket.bucket_name}/{prefix}"

        # Resolved at deploy time in the target region, like the Powertools layer.
        layer = lambda_.LayerVersion.from_layer_version_arn(
            self,
            "ExtensionLayer",
            ssm.StringParameter.value_for_string_parameter(self, fis_extension_parameter()),
        )
        self.targeted: dict[str, lambda_.Function] = {}
        for spec in TARGETED_FUNCTIONS:
            fn = functions[spec.key]
            fn.add_layers(layer)
            fn.add_environment("AWS_FIS_CONFIGURATION_LOCATION", location)
            fn.add_environment("AWS_LAMBDA_EXEC_WRAPPER", "/opt/aws-fis/bootstrap")
            fn.add_environment("AWS_FIS_POLL_MAX_WAIT_MILLISECONDS", POLL_MAX_WAIT_MILLISECONDS)
            # The extension's read access: list the folder, read its objects.
            iam.Grant.add_to_principal(
                grantee=fn, actions=["s3:GetObject"], resource_arns=[configurations]
            )
            fn.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["s3:ListBucket"],
                    resources=[self.bucket.bucket_arn],
                    conditions={"StringLike": {"s3:prefix": [f"{prefix}*"]}},
                )
            )
            self.targeted[spec.key] = fn

        self.log_group = logs.LogGroup(
            self,
            "ExperimentLogGroup",
            log_group_name=f"/aws/vendedlogs/fis/{stack_name}-experiments",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            "ExperimentRole",
            # Only FIS experiments of this account may assume it (no confused deputy).
            assumed_by=iam.ServicePrincipal("fis.amazonaws.com").with_conditions(
                {
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="fis", resource="experiment", resource_name="*"
                        )
                    },
                }
            ),
            description=f"{stack_name}: FIS experiments on the task functions",
        )
        # The FIS actions reference's permissions for the aws:lambda actions.
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject", "s3:DeleteObject"], resources=[configurations]
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["lambda:GetFunction"],
                resources=[fn.function_arn for fn in self.targeted.values()],
            )
        )
        # Target resolution; tag:GetResources has no resource-level permissions.
        self.role.add_to_policy(iam.PolicyStatement(actions=["tag:GetResources"], resources=["*"]))
        # Experiment logging to CloudWatch Logs is a vended log delivery: the caller needs
        # these four calls, which support no resource-level permissions (FIS user guide,
        # monitoring-logging.html, which points at CloudWatch Logs'
        # AWS-logs-and-resource-policy.html#AWS-logs-infrastructure-CWL).
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogDelivery",
                    "logs:PutResourcePolicy",
                    "logs:DescribeResourcePolicies",
                    "logs:DescribeLogGroups",
                ],
                resources=["*"],
            )
        )

        self.templates: dict[str, fis.CfnExperimentTemplate] = {}
        for experiment in EXPERIMENTS:
            fn = self.targeted[experiment.function.key]
            target = "".join(part.capitalize() for part in experiment.function.key.split("-"))
            template = fis.CfnExperimentTemplate(
                self,
                experiment.name,
                description=experiment.name,
                role_arn=self.role.role_arn,
                targets={
                    target: fis.CfnExperimentTemplate.ExperimentTemplateTargetProperty(
                        resource_type=RESOURCE_TYPE,
                        resource_arns=[fn.function_arn],
                        selection_mode="ALL",
                    )
                },
                actions={
                    "inject": fis.CfnExperimentTemplate.ExperimentTemplateActionProperty(
                        action_id=experiment.action_id,
                        description=experiment.proves,
                        parameters=dict(experiment.parameters),
                        targets={TARGET_KEY: target},
                    )
                },
                stop_conditions=[
                    fis.CfnExperimentTemplate.ExperimentTemplateStopConditionProperty(
                        source="aws:cloudwatch:alarm",
                        value=alarms[experiment.stop_alarm].alarm_arn,
                    )
                ],
                log_configuration=fis.CfnExperimentTemplate.ExperimentTemplateLogConfigurationProperty(
                    log_schema_version=2,
                    # An untyped property in the L1: CloudFormation's own key casing.
                    cloud_watch_logs_configuration={"LogGroupArn": self.log_group.log_group_arn},
                ),
                tags={"Name": experiment.name},
            )
            self.templates[experiment.name] = template
