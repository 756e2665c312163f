"""Saved Logs Insights queries on the local endpoint (PutQueryDefinition,
DescribeQueryDefinitions, DeleteQueryDefinition), driven with the AWS CLI and boto3 as a
console or a script drives them on AWS."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from botocore.exceptions import ClientError

from tests.support.aws_cli import CliResult
from tests.support.local_cloud import LocalCloudProcess


def test_a_saved_query_is_put_listed_replaced_and_deleted(
    aws: Callable[..., CliResult], conformance_cloud: LocalCloudProcess
) -> None:
    logs = conformance_cloud.client("logs")
    # Given a query saved through the AWS CLI
    put = aws(
        "logs",
        "put-query-definition",
        "--name",
        "conformance/one-task",
        "--query-string",
        "fields @timestamp, @message | filter taskId = 'x'",
        "--log-group-names",
        "/aws/lambda/a",
        "/aws/lambda/b",
    )
    assert put.returncode == 0, put.stderr
    definition_id = json.loads(put.stdout)["queryDefinitionId"]
    # When the saved queries under its prefix are listed
    listed = logs.describe_query_definitions(queryDefinitionNamePrefix="conformance/")
    # Then it is there with its name, query, groups, language and modification time
    [saved] = listed["queryDefinitions"]
    assert saved["queryDefinitionId"] == definition_id
    assert (saved["name"], saved["queryLanguage"]) == ("conformance/one-task", "CWLI")
    assert saved["logGroupNames"] == ["/aws/lambda/a", "/aws/lambda/b"]
    assert saved["lastModified"] > 0 and "nextToken" not in listed
    # When it is put again under its id  Then it is replaced, not duplicated
    logs.put_query_definition(
        queryDefinitionId=definition_id, name="conformance/one-task", queryString="fields @m"
    )
    again = logs.describe_query_definitions(queryDefinitionNamePrefix="conformance/")
    assert [d["queryString"] for d in again["queryDefinitions"]] == ["fields @m"]
    # When it is deleted  Then it is gone, and a second delete is AWS's not-found error
    assert logs.delete_query_definition(queryDefinitionId=definition_id)["success"] is True
    with pytest.raises(ClientError) as missing:
        logs.delete_query_definition(queryDefinitionId=definition_id)
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_saved_queries_page_and_refuse_bad_parameters(
    conformance_cloud: LocalCloudProcess,
) -> None:
    logs = conformance_cloud.client("logs")
    # Given three saved queries
    for n in range(3):
        logs.put_query_definition(name=f"paging/{n}", queryString="fields @message")
    # When they are listed two at a time  Then two pages hold all three, in name order
    first = logs.describe_query_definitions(queryDefinitionNamePrefix="paging/", maxResults=2)
    second = logs.describe_query_definitions(
        queryDefinitionNamePrefix="paging/", maxResults=2, nextToken=first["nextToken"]
    )
    names = [d["name"] for d in first["queryDefinitions"] + second["queryDefinitions"]]
    assert names == ["paging/0", "paging/1", "paging/2"] and "nextToken" not in second
    # And an id that does not exist, or a page size out of range, is refused as AWS refuses it
    with pytest.raises(ClientError) as unknown:
        logs.put_query_definition(
            queryDefinitionId="00000000-0000-0000-0000-000000000000", name="x", queryString="y"
        )
    assert unknown.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as too_many:
        logs.describe_query_definitions(maxResults=1001)
    assert too_many.value.response["Error"]["Code"] in ("InvalidParameterException",)
