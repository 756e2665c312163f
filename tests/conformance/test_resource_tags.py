"""The stack's resources carry the tags CloudFormation gives them: the template's `Tags` and
`aws:cloudformation:logical-id`, `aws:cloudformation:stack-id`, `aws:cloudformation:stack-name`
(CloudFormation template reference, "Resource tagging"). moto alone listed none."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.local_cloud import LocalCloudProcess

PROJECT_TAG = ("project", "fault-tolerant-backend")  # infra/app.py tags the whole app


def expect_cloudformation_tags(tags: dict[str, str], stack_name: str) -> None:
    assert tags.get(PROJECT_TAG[0]) == PROJECT_TAG[1]
    assert tags["aws:cloudformation:stack-name"] == stack_name
    assert tags["aws:cloudformation:stack-id"].startswith(
        f"arn:aws:cloudformation:us-east-1:123456789012:stack/{stack_name}/"
    )
    assert tags["aws:cloudformation:logical-id"]


def state_machine_tags(cloud: LocalCloudProcess) -> dict[str, str]:
    sfn = cloud.client("stepfunctions")
    answer = sfn.list_tags_for_resource(resourceArn=cloud.outputs["StateMachineArn"])
    return {tag["key"]: tag["value"] for tag in answer["tags"]}


def queue_tags(cloud: LocalCloudProcess) -> dict[str, str]:
    url = cloud.outputs["TaskQueueUrl"]
    return dict(cloud.client("sqs").list_queue_tags(QueueUrl=url).get("Tags", {}))


def table_tags(cloud: LocalCloudProcess) -> dict[str, str]:
    dynamodb = cloud.client("dynamodb")
    (table,) = cloud.state["tables"].values()
    arn = dynamodb.describe_table(TableName=table)["Table"]["TableArn"]
    answer = dynamodb.list_tags_of_resource(ResourceArn=arn)
    return {tag["Key"]: tag["Value"] for tag in answer["Tags"]}


def log_group_tags(cloud: LocalCloudProcess) -> dict[str, str]:
    logs = cloud.client("logs")
    name = f"/aws/lambda/{cloud.function_name('process-task')}"
    (group,) = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    answer = logs.list_tags_for_resource(resourceArn=group["arn"].removesuffix(":*"))
    return dict(answer["tags"])


@pytest.mark.parametrize(
    "read_tags",
    [state_machine_tags, queue_tags, table_tags, log_group_tags],
    ids=["state-machine", "queue", "table", "log-group"],
)
def test_a_stack_resource_lists_its_template_and_cloudformation_tags(
    conformance_cloud: LocalCloudProcess, read_tags: Callable[[LocalCloudProcess], dict[str, str]]
) -> None:
    # Given a resource the template tags / When a console lists its tags
    tags = read_tags(conformance_cloud)
    # Then the template's tags and CloudFormation's own stack-level tags
    expect_cloudformation_tags(tags, conformance_cloud.state["stackName"])
