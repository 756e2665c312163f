"""The harness itself: the AWS CLI reaches the conformance cloud and parses its answers."""

from __future__ import annotations

from collections.abc import Callable

from tests.support.aws_cli import CliResult
from tests.support.local_cloud import LocalCloudProcess


def test_the_cli_lists_the_stack_queues(
    conformance_cloud: LocalCloudProcess, aws: Callable[..., CliResult]
) -> None:
    # Given the conformance cloud
    # When the AWS CLI lists its queues
    result = aws("sqs", "list-queues")
    # Then it succeeds and names every queue of the stack
    assert result.returncode == 0, result.stderr
    urls = result.json()["QueueUrls"]
    assert set(conformance_cloud.state["queues"].values()) <= set(urls)


def test_the_cli_reports_an_aws_error_for_a_missing_resource(
    aws: Callable[..., CliResult],
) -> None:
    # Given the conformance cloud
    # When the CLI describes an execution that does not exist
    arn = "arn:aws:states:us-east-1:123456789012:execution:nope:nope"
    result = aws("stepfunctions", "describe-execution", "--execution-arn", arn)
    # Then the CLI exits non-zero with AWS's error code
    assert result.returncode != 0
    assert "ExecutionDoesNotExist" in result.stderr
