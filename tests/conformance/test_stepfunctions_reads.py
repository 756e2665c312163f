"""Step Functions execution reads against the running endpoint, with botocore and the AWS CLI.

What is asserted is AWS's documented behaviour (Step Functions API reference:
GetExecutionHistory, ListExecutions, DescribeExecution, DescribeStateMachineForExecution,
HistoryEvent): `maxResults` default 100 and at most 1000, an opaque `nextToken` whose misuse
is `InvalidToken`, `reverseOrder`, `includeExecutionData`, event ids 1..n in chronological
order with `previousEventId`, executions newest first, `statusFilter`, and the fields the
console shows.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import botocore.exceptions
import pytest

from tests.conformance.conftest import WORKLOAD_FAILING, WORKLOAD_SUCCEEDING
from tests.support.aws_cli import CliResult
from tests.support.local_cloud import LocalCloudProcess

FAILED_TASK = WORKLOAD_FAILING[0]
SUCCEEDED_TASK = WORKLOAD_SUCCEEDING[0]
# With FAILURE_RATE 0 exactly the task ids ending in 3 fail (permanently), whatever list they
# are in.
FAILED_TASKS = {t for t in WORKLOAD_SUCCEEDING + WORKLOAD_FAILING if t.endswith("3")}


def full_history(sfn: Any, arn: str, **request: Any) -> list[dict[str, Any]]:
    """Every event, one request with the largest page AWS allows."""
    answer = sfn.get_execution_history(executionArn=arn, maxResults=1000, **request)
    assert "nextToken" not in answer
    return list(answer["events"])


def client_error(call: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call()
    return dict(raised.value.response)


# -- GetExecutionHistory -----------------------------------------------------------------------


def test_history_events_are_numbered_one_to_n_in_chronological_order(
    conformance_cloud: LocalCloudProcess,
) -> None:
    # Given a failed task's execution (a retried task, a catch, a dead-letter message)
    sfn = conformance_cloud.client("stepfunctions")
    events = full_history(sfn, conformance_cloud.execution_arn(FAILED_TASK))
    # Then ids run 1..n, timestamps never go back, the first event starts the execution
    # from event 0 and every other event follows an earlier one (HistoryEvent)
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert [e["timestamp"] for e in events] == sorted(e["timestamp"] for e in events)
    assert events[0]["type"] == "ExecutionStarted" and events[0]["previousEventId"] == 0
    # and the first state's entry follows event 0 too, as AWS records it
    assert events[1]["type"] == "TaskStateEntered" and events[1]["previousEventId"] == 0
    assert all(0 <= e["previousEventId"] < e["id"] for e in events)
    assert events[-1]["type"] == "ExecutionFailed"


def test_history_pages_with_max_results_and_next_token_equal_the_full_history(
    conformance_cloud: LocalCloudProcess,
) -> None:
    # Given the full history of a failed execution
    sfn = conformance_cloud.client("stepfunctions")
    arn = conformance_cloud.execution_arn(FAILED_TASK)
    expected = full_history(sfn, arn)
    assert len(expected) > 5
    # When it is read five events at a time, following nextToken
    pages: list[list[dict[str, Any]]] = []
    request: dict[str, Any] = {"executionArn": arn, "maxResults": 5}
    while True:
        page = sfn.get_execution_history(**request)
        pages.append(page["events"])
        if "nextToken" not in page:
            break
        request["nextToken"] = page["nextToken"]
    # Then every page but the last holds five events and together they are the history
    assert all(len(page) == 5 for page in pages[:-1]) and 1 <= len(pages[-1]) <= 5
    assert [e for page in pages for e in page] == expected


def test_history_in_reverse_order_starts_with_the_newest_event(
    conformance_cloud: LocalCloudProcess,
) -> None:
    # Given the full history of a succeeded execution
    sfn = conformance_cloud.client("stepfunctions")
    arn = conformance_cloud.execution_arn(SUCCEEDED_TASK)
    expected = full_history(sfn, arn)
    # When the console's read is made: newest first, a small page
    page = sfn.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=3)
    # Then the three newest events, newest first, and a token for the rest
    assert page["events"] == list(reversed(expected))[:3]
    assert page["events"][0]["type"] == "ExecutionSucceeded"
    assert page["nextToken"]


def test_history_defaults_to_pages_of_100(conformance_cloud: LocalCloudProcess) -> None:
    # Given an execution whose history has fewer than 100 events
    sfn = conformance_cloud.client("stepfunctions")
    arn = conformance_cloud.execution_arn(FAILED_TASK)
    # When the history is asked for with maxResults 0 ("a value of 0 uses the default")
    page = sfn.get_execution_history(executionArn=arn, maxResults=0)
    # Then the whole history in one page, with no token
    assert page["events"] == full_history(sfn, arn) and "nextToken" not in page


def test_history_without_execution_data_has_no_inputs_or_outputs(
    conformance_cloud: LocalCloudProcess,
) -> None:
    # Given a succeeded execution, whose events carry the task's input and output
    sfn = conformance_cloud.client("stepfunctions")
    arn = conformance_cloud.execution_arn(SUCCEEDED_TASK)
    with_data = full_history(sfn, arn)
    assert any("input" in d for e in with_data for k, d in e.items() if k.endswith("Details"))
    # When it is read with includeExecutionData false
    without = full_history(sfn, arn, includeExecutionData=False)
    # Then the same events, with no input, output or their details left in any event details
    assert [e["id"] for e in without] == [e["id"] for e in with_data]
    for event in without:
        for key, details in event.items():
            if key.endswith("EventDetails"):
                assert not {"input", "output", "inputDetails", "outputDetails"} & set(details)


@pytest.mark.parametrize("max_results", [1001, 5000])
def test_history_max_results_above_1000_is_a_validation_error(
    conformance_cloud: LocalCloudProcess, max_results: int
) -> None:
    # Given an execution / When a page larger than AWS allows is asked for
    sfn = conformance_cloud.client("stepfunctions")
    arn = conformance_cloud.execution_arn(SUCCEEDED_TASK)
    response = client_error(
        lambda: sfn.get_execution_history(executionArn=arn, maxResults=max_results)
    )
    # Then 400 ValidationException naming maxResults
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["Error"]["Code"] == "ValidationException"
    assert "maxResults" in response["Error"]["Message"]


def test_history_with_a_bad_token_is_invalid_token(conformance_cloud: LocalCloudProcess) -> None:
    # Given an execution / When a token the endpoint never issued is presented
    sfn = conformance_cloud.client("stepfunctions")
    arn = conformance_cloud.execution_arn(SUCCEEDED_TASK)
    response = client_error(
        lambda: sfn.get_execution_history(executionArn=arn, nextToken="not-a-token")
    )
    # Then AWS's HTTP 400 InvalidToken
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["Error"]["Code"] == "InvalidToken"


def test_history_input_is_validated_before_the_execution_is_looked_up(
    conformance_cloud: LocalCloudProcess,
) -> None:
    # Given an execution that does not exist / When its history is asked with maxResults 1001
    sfn = conformance_cloud.client("stepfunctions")
    arn = conformance_cloud.execution_arn("never-started")
    response = client_error(lambda: sfn.get_execution_history(executionArn=arn, maxResults=1001))
    # Then the input's ValidationException, as AWS validates before it looks anything up
    assert response["Error"]["Code"] == "ValidationException"


def test_history_of_an_unknown_execution_is_execution_does_not_exist(
    conformance_cloud: LocalCloudProcess,
) -> None:
    # Given an execution name that was never started / When its history is read
    sfn = conformance_cloud.client("stepfunctions")
    arn = conformance_cloud.execution_arn("never-started")
    response = client_error(lambda: sfn.get_execution_history(executionArn=arn))
    # Then ExecutionDoesNotExist
    assert response["Error"]["Code"] == "ExecutionDoesNotExist"


def test_cli_reads_the_newest_five_events(
    conformance_cloud: LocalCloudProcess, aws: Callable[..., CliResult]
) -> None:
    # Given a failed execution's full history
    arn = conformance_cloud.execution_arn(FAILED_TASK)
    expected = full_history(conformance_cloud.client("stepfunctions"), arn)
    # When the CLI asks for five events, newest first, without following pages
    result = aws(
        "stepfunctions", "get-execution-history", "--execution-arn", arn,
        "--max-results", "5", "--reverse-order", "--no-paginate",
    )  # fmt: skip
    # Then the five newest events, newest first, and a token to go on
    assert result.returncode == 0, result.stderr
    answer = result.json()
    assert [e["id"] for e in answer["events"]] == [e["id"] for e in reversed(expected)][:5]
    assert answer["events"][0]["type"] == "ExecutionFailed"
    assert answer["nextToken"]


def test_cli_pagination_across_pages_equals_the_full_history(
    conformance_cloud: LocalCloudProcess, aws: Callable[..., CliResult]
) -> None:
    # Given a failed execution's full history (more than three events)
    arn = conformance_cloud.execution_arn(FAILED_TASK)
    expected = full_history(conformance_cloud.client("stepfunctions"), arn)
    # When the CLI pages through it three events per request (its paginator follows nextToken)
    result = aws(
        "stepfunctions", "get-execution-history", "--execution-arn", arn, "--page-size", "3",
    )  # fmt: skip
    # Then it gathers exactly the full history, in order
    assert result.returncode == 0, result.stderr
    assert [e["id"] for e in result.json()["events"]] == [e["id"] for e in expected]
    # And --starting-token continues a page the CLI stopped at
    first = aws(
        "stepfunctions", "get-execution-history", "--execution-arn", arn, "--max-items", "4",
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    rest = aws(
        "stepfunctions", "get-execution-history", "--execution-arn", arn,
        "--starting-token", first.json()["NextToken"],
    )  # fmt: skip
    assert rest.returncode == 0, rest.stderr
    ids = [e["id"] for e in first.json()["events"] + rest.json()["events"]]
    assert ids == [e["id"] for e in expected]


def test_cli_reads_the_history_without_execution_data(
    conformance_cloud: LocalCloudProcess, aws: Callable[..., CliResult]
) -> None:
    # Given a succeeded execution / When the CLI reads its history without execution data
    arn = conformance_cloud.execution_arn(SUCCEEDED_TASK)
    result = aws(
        "stepfunctions", "get-execution-history", "--execution-arn", arn,
        "--no-include-execution-data",
    )  # fmt: skip
    # Then the execution's start has no input and its end no output
    assert result.returncode == 0, result.stderr
    events = result.json()["events"]
    assert "input" not in events[0]["executionStartedEventDetails"]
    assert events[-1]["type"] == "ExecutionSucceeded"
    assert "output" not in events[-1].get("executionSucceededEventDetails", {})


def test_cli_refuses_a_page_above_1000(
    conformance_cloud: LocalCloudProcess, aws: Callable[..., CliResult]
) -> None:
    # Given an execution / When the CLI asks for 1001 events per page
    arn = conformance_cloud.execution_arn(SUCCEEDED_TASK)
    result = aws(
        "stepfunctions", "get-execution-history", "--execution-arn", arn,
        "--max-results", "1001", "--no-paginate",
    )  # fmt: skip
    # Then the CLI reports AWS's ValidationException
    assert result.returncode != 0
    assert "ValidationException" in result.stderr


# -- ListExecutions ----------------------------------------------------------------------------


def test_executions_are_listed_newest_first_and_page(conformance_cloud: LocalCloudProcess) -> None:
    # Given the workload's executions
    sfn = conformance_cloud.client("stepfunctions")
    machine = conformance_cloud.outputs["StateMachineArn"]
    everything = sfn.list_executions(stateMachineArn=machine, maxResults=1000)["executions"]
    assert len(everything) >= len(WORKLOAD_SUCCEEDING) + len(WORKLOAD_FAILING)
    # Then they are newest first ("the most recent execution first")
    starts = [e["startDate"] for e in everything]
    assert starts == sorted(starts, reverse=True)
    # When they are read two at a time
    paged: list[dict[str, Any]] = []
    request: dict[str, Any] = {"stateMachineArn": machine, "maxResults": 2}
    while True:
        page = sfn.list_executions(**request)
        assert len(page["executions"]) <= 2
        paged.extend(page["executions"])
        if "nextToken" not in page:
            break
        request["nextToken"] = page["nextToken"]
    # Then the pages together are the same list
    assert [e["executionArn"] for e in paged] == [e["executionArn"] for e in everything]


def test_executions_filtered_by_status(conformance_cloud: LocalCloudProcess) -> None:
    # Given the workload (ids ending in 3 fail permanently)
    sfn = conformance_cloud.client("stepfunctions")
    machine = conformance_cloud.outputs["StateMachineArn"]
    # When only FAILED executions are listed
    failed = sfn.list_executions(stateMachineArn=machine, statusFilter="FAILED")["executions"]
    # Then exactly the failing tasks, each with its stop date
    assert {e["name"] for e in failed} == FAILED_TASKS
    assert all(e["status"] == "FAILED" and e["stopDate"] >= e["startDate"] for e in failed)


def test_an_unknown_status_filter_is_a_validation_error(
    conformance_cloud: LocalCloudProcess,
) -> None:
    # Given the state machine / When a status AWS does not have filters the list
    sfn = conformance_cloud.client("stepfunctions")
    machine = conformance_cloud.outputs["StateMachineArn"]
    # (botocore checks enums only server-side: the endpoint must refuse it)
    response = client_error(lambda: sfn.list_executions(stateMachineArn=machine, statusFilter="X"))
    # Then ValidationException
    assert response["Error"]["Code"] == "ValidationException"


def test_list_executions_of_an_unknown_machine_is_state_machine_does_not_exist(
    conformance_cloud: LocalCloudProcess,
) -> None:
    # Given a state machine ARN of no machine / When its executions are listed
    sfn = conformance_cloud.client("stepfunctions")
    machine = conformance_cloud.outputs["StateMachineArn"] + "-nope"
    response = client_error(lambda: sfn.list_executions(stateMachineArn=machine))
    # Then StateMachineDoesNotExist
    assert response["Error"]["Code"] == "StateMachineDoesNotExist"


def test_cli_lists_failed_executions(
    conformance_cloud: LocalCloudProcess, aws: Callable[..., CliResult]
) -> None:
    # Given the workload / When the CLI lists FAILED executions, one per request
    machine = conformance_cloud.outputs["StateMachineArn"]
    result = aws(
        "stepfunctions", "list-executions", "--state-machine-arn", machine,
        "--status-filter", "FAILED", "--page-size", "1",
    )  # fmt: skip
    # Then its paginator gathers exactly the failed tasks
    assert result.returncode == 0, result.stderr
    assert {e["name"] for e in result.json()["executions"]} == FAILED_TASKS


# -- DescribeExecution, DescribeStateMachineForExecution ---------------------------------------


def test_a_failed_execution_is_described_with_every_console_field(
    conformance_cloud: LocalCloudProcess,
) -> None:
    # Given a task that failed permanently
    sfn = conformance_cloud.client("stepfunctions")
    arn = conformance_cloud.execution_arn(FAILED_TASK)
    # When its execution is described
    answer = sfn.describe_execution(executionArn=arn)
    # Then the console's fields, as AWS fills them for a failed Standard execution
    assert answer["executionArn"] == arn and answer["name"] == FAILED_TASK
    assert answer["stateMachineArn"] == conformance_cloud.outputs["StateMachineArn"]
    assert answer["status"] == "FAILED"
    assert answer["stopDate"] >= answer["startDate"]
    assert json.loads(answer["input"])["taskId"] == FAILED_TASK
    assert answer["inputDetails"] == {"included": True}
    assert answer["error"] and answer["cause"]
    assert "output" not in answer
    # ... and never REDRIVABLE, since the endpoint refuses RedriveExecution: it says so
    assert answer["redriveCount"] == 0 and answer["redriveStatus"] == "NOT_REDRIVABLE"
    assert (
        "RedriveExecution is not available on the local endpoint" in answer["redriveStatusReason"]
    )


def test_a_succeeded_execution_is_described_with_its_output(
    conformance_cloud: LocalCloudProcess, aws: Callable[..., CliResult]
) -> None:
    # Given a task that succeeded / When the CLI describes its execution
    arn = conformance_cloud.execution_arn(SUCCEEDED_TASK)
    result = aws("stepfunctions", "describe-execution", "--execution-arn", arn)
    # Then status, output and its details, and AWS's reason it cannot be redriven
    assert result.returncode == 0, result.stderr
    answer = result.json()
    assert answer["status"] == "SUCCEEDED"
    json.loads(answer["output"])
    assert answer["outputDetails"] == {"included": True}
    assert answer["redriveStatus"] == "NOT_REDRIVABLE"
    assert answer["redriveStatusReason"] == "Execution is SUCCEEDED and cannot be redriven"
    assert "error" not in answer and "cause" not in answer


def test_the_state_machine_for_an_execution_is_the_definition_it_ran(
    conformance_cloud: LocalCloudProcess,
) -> None:
    # Given an execution of the stack's state machine
    sfn = conformance_cloud.client("stepfunctions")
    machine = sfn.describe_state_machine(
        stateMachineArn=conformance_cloud.outputs["StateMachineArn"]
    )
    # When the state machine for the execution is described
    answer = sfn.describe_state_machine_for_execution(
        executionArn=conformance_cloud.execution_arn(SUCCEEDED_TASK)
    )
    # Then its output shape: the definition, role and ARN it ran with, and an updateDate
    assert answer["stateMachineArn"] == machine["stateMachineArn"]
    assert answer["definition"] == machine["definition"]
    assert answer["roleArn"] == machine["roleArn"] and answer["name"] == machine["name"]
    assert answer["updateDate"]
