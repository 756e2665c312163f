"""One history event as Step Functions writes it to its log group, at each log level."""

from __future__ import annotations

from datetime import UTC, datetime

from ftb.localcloud.stepfunctions_logs import log_record, logged_types
from ftb.localcloud.stepfunctions_logs.shipper import log_group_name, stream_name

ARN = "arn:aws:states:us-east-1:123456789012:execution:task-workflow:task-013"
AT = datetime(2026, 12, 3, 20, 0, 0, 123000, tzinfo=UTC)


def test_a_task_failure_is_one_record_with_string_fields_and_its_details() -> None:
    # Given a TaskFailed event as GetExecutionHistory returns it
    event = {
        "id": 5,
        "previousEventId": 4,
        "timestamp": AT,
        "type": "TaskFailed",
        "taskFailedEventDetails": {
            "resourceType": "lambda",
            "resource": "invoke",
            "error": "PermanentTaskError",
            "cause": "{}",
        },
    }
    # When it is logged  Then it is AWS's record: strings, details flattened, no data dropped
    assert log_record(event, ARN, include_data=False) == {
        "id": "5",
        "type": "TaskFailed",
        "details": {
            "resourceType": "lambda",
            "resource": "invoke",
            "error": "PermanentTaskError",
            "cause": "{}",
        },
        "previous_event_id": "4",
        "event_timestamp": "1796328000123",
        "execution_arn": ARN,
        "redrive_count": "0",
    }


def test_without_execution_data_the_input_and_output_are_left_out() -> None:
    event = {
        "id": 1,
        "previousEventId": 0,
        "timestamp": AT,
        "type": "ExecutionStarted",
        "executionStartedEventDetails": {
            "input": '{"taskId":"task-013"}',
            "inputDetails": {"truncated": False},
            "roleArn": "arn:aws:iam::123456789012:role/r",
        },
    }
    assert log_record(event, ARN, include_data=False)["details"] == {
        "roleArn": "arn:aws:iam::123456789012:role/r"
    }
    assert log_record(event, ARN, include_data=True)["details"]["input"] == '{"taskId":"task-013"}'


def test_each_level_logs_its_event_types() -> None:
    all_, error, fatal, off = (logged_types(level) for level in ("ALL", "ERROR", "FATAL", "OFF"))
    assert all_("TaskStateEntered") and all_("ExecutionSucceeded")
    assert error("TaskFailed") and error("FailStateEntered") and error("ExecutionFailed")
    assert not error("ExecutionStarted") and not error("TaskScheduled")
    assert fatal("ExecutionTimedOut") and not fatal("TaskFailed")
    assert not off("ExecutionFailed")


def test_the_destination_and_the_stream_are_named_as_step_functions_names_them() -> None:
    config = {
        "level": "ALL",
        "destinations": [
            {
                "cloudWatchLogsLogGroup": {
                    "logGroupArn": "arn:aws:logs:us-east-1:1:log-group:/aws/vendedlogs/states/x:*"
                }
            }
        ],
    }
    assert log_group_name(config) == "/aws/vendedlogs/states/x"
    assert log_group_name({"level": "OFF"}) is None
    name = stream_name("task-workflow", ARN, AT)
    assert (
        name.startswith("states/task-workflow/2026-12-03-20-00/") and len(name.split("/")[-1]) == 8
    )
