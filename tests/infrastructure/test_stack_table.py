"""The tasks table: on-demand, keyed by taskId, TTL, point-in-time recovery, encryption."""

from __future__ import annotations

from task_domain.models import TASK_RECORD_TTL_DAYS


def test_table_is_on_demand_and_keyed_by_task_id(stack):
    # Given the tasks table
    _, props = stack.only("AWS::DynamoDB::Table")
    # Then it bills per request and its only key is the string taskId
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == [{"AttributeName": "taskId", "KeyType": "HASH"}]
    assert props["AttributeDefinitions"] == [{"AttributeName": "taskId", "AttributeType": "S"}]


def test_records_expire_through_the_ttl_attribute(stack):
    # Given the table's TTL  Then DynamoDB expires records on `expiresAt` (epoch seconds), which
    # the API sets 90 days out: as long as the execution name stays reserved
    _, props = stack.only("AWS::DynamoDB::Table")
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert TASK_RECORD_TTL_DAYS == 90


def test_table_is_recoverable_and_encrypted(stack):
    _, props = stack.only("AWS::DynamoDB::Table")
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}


def test_table_outlives_the_stack_by_default(stack):
    # Given no tableRemovalPolicy context  Then deleting the stack keeps the task records
    table_id, props = stack.only("AWS::DynamoDB::Table")
    resource = stack.resources[table_id]
    assert resource["DeletionPolicy"] == "Retain"
    assert resource["UpdateReplacePolicy"] == "Retain"
    assert props["DeletionProtectionEnabled"] is True
