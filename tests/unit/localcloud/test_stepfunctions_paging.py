"""Step Functions reads: paging tokens, history pages and execution descriptions, without moto."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from ftb.localcloud.stepfunctions_reads.executions import describe, list_page
from ftb.localcloud.stepfunctions_reads.history import history_page
from ftb.localcloud.stepfunctions_reads.paging import (
    DEFAULT_PAGE_SIZE,
    StatesError,
    decode_token,
    encode_token,
    page_size,
    take_page,
)

ARN = "arn:aws:states:us-east-1:123456789012:execution:machine:run"
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:machine"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def events(count: int) -> list[dict[str, Any]]:
    """A history as moto's engine records it: ids 1..n, ISO timestamps, details with data."""
    made = [
        {
            "id": 1,
            "previousEventId": 0,
            "type": "ExecutionStarted",
            "timestamp": T0.isoformat(),
            "executionStartedEventDetails": {
                "input": '{"taskId":"t"}',
                "inputDetails": {"truncated": False},
                "roleArn": "arn:aws:iam::123456789012:role/r",
            },
        }
    ]
    for n in range(2, count + 1):
        made.append(
            {
                "id": n,
                "previousEventId": n - 1,
                "type": "PassStateExited",
                "timestamp": (T0 + timedelta(seconds=n)).isoformat(),
                "stateExitedEventDetails": {
                    "name": f"S{n}",
                    "output": "{}",
                    "outputDetails": {"truncated": False},
                },
            }
        )
    return made


def all_pages(history: list[dict[str, Any]], **request: Any) -> list[list[int]]:
    pages, token = [], None
    while True:
        answer = history_page(history, {"executionArn": ARN, **request, "nextToken": token})
        pages.append([event["id"] for event in answer["events"]])
        token = answer.get("nextToken")
        if token is None:
            return pages


# -- maxResults --------------------------------------------------------------------------------


@pytest.mark.parametrize(("given", "size"), [(None, 100), (0, 100), (1, 1), (1000, 1000)])
def test_page_size_is_the_default_for_none_and_zero_and_else_the_value(
    given: int | None, size: int
) -> None:
    # Given a maxResults / When it is read / Then absent and 0 mean 100 (API reference)
    assert page_size(given) == size


@pytest.mark.parametrize("given", [1001, -1, "5", 2.5, True])
def test_page_size_out_of_range_or_not_a_number_is_a_validation_error(given: Any) -> None:
    # Given a maxResults AWS would refuse / When it is read / Then ValidationException
    with pytest.raises(StatesError) as raised:
        page_size(given)
    assert raised.value.code == "ValidationException"
    assert "maxResults" in raised.value.message


# -- tokens ------------------------------------------------------------------------------------


def test_a_token_round_trips_within_its_scope() -> None:
    # Given a token issued for one request / When it is read for the same request
    token = encode_token("scope-a", [7, "x"])
    # Then it names the same position
    assert decode_token(token, "scope-a") == [7, "x"]


@pytest.mark.parametrize(
    "token",
    ["", "not-base64-$$$", "AAAA", "x" * 2000, encode_token("scope-a", [1])[:-2] + "zz"],
    # Named: the last token differs per process, and pytest-xdist's workers must collect
    # the same test ids.
    ids=["empty", "not-base64", "too-short", "too-long", "tampered"],
)
def test_a_bad_token_is_invalid_token(token: str) -> None:
    # Given a token that was not issued here (garbage, truncated, altered, too long)
    # When it is read / Then InvalidToken, as AWS answers a bad or expired token
    with pytest.raises(StatesError) as raised:
        decode_token(token, "scope-a")
    assert raised.value.code == "InvalidToken"


def test_a_token_reused_with_other_arguments_is_invalid_token() -> None:
    # Given a token of one request / When another request (other arguments) presents it
    token = encode_token("scope-a", [1])
    # Then InvalidToken ("keep all other arguments unchanged")
    with pytest.raises(StatesError) as raised:
        decode_token(token, "scope-b")
    assert raised.value.code == "InvalidToken"


def test_a_page_continues_after_its_last_item_even_when_items_were_added() -> None:
    # Given a first page of 2 over items 1..5
    first = take_page([1, 2, 3, 4, 5], lambda n: [n], 2, "s", None)
    assert first.items == [1, 2] and first.next_token
    # When items are added before the next page is asked for
    second = take_page([1, 2, 3, 4, 5, 6], lambda n: [n], 2, "s", first.next_token)
    # Then the next page starts right after the last item returned
    assert second.items == [3, 4]


def test_the_last_page_has_no_token() -> None:
    # Given exactly one full page of items / When it is taken / Then no token follows
    page = take_page([1, 2], lambda n: [n], 2, "s", None)
    assert page.items == [1, 2] and page.next_token is None


# -- GetExecutionHistory -----------------------------------------------------------------------


def test_history_defaults_to_100_events_ascending_with_a_token() -> None:
    # Given a history of 250 events / When the first page is asked for with no arguments
    answer = history_page(events(250), {"executionArn": ARN})
    # Then 100 events, ids 1..100 in order, and a token for the rest
    assert [e["id"] for e in answer["events"]] == list(range(1, DEFAULT_PAGE_SIZE + 1))
    assert answer["nextToken"]


def test_paging_through_the_history_returns_every_event_once_in_order() -> None:
    # Given a history of 23 events / When it is read 5 at a time
    pages = all_pages(events(23), maxResults=5)
    # Then five pages, together the whole history in chronological order
    assert [len(page) for page in pages] == [5, 5, 5, 5, 3]
    assert [n for page in pages for n in page] == list(range(1, 24))


def test_reverse_order_pages_from_the_newest_event() -> None:
    # Given a history of 12 events / When it is read newest first, 5 at a time
    pages = all_pages(events(12), maxResults=5, reverseOrder=True)
    # Then the first page is the 5 newest events and the pages cover the whole history
    assert pages[0] == [12, 11, 10, 9, 8]
    assert [n for page in pages for n in page] == list(range(12, 0, -1))


def test_without_execution_data_the_inputs_and_outputs_are_left_out() -> None:
    # Given a history whose events carry input and output
    # When it is read with includeExecutionData false
    answer = history_page(events(3), {"executionArn": ARN, "includeExecutionData": False})
    # Then no details hold input, output or their details, and the rest is kept
    started = answer["events"][0]["executionStartedEventDetails"]
    assert started == {"roleArn": "arn:aws:iam::123456789012:role/r"}
    assert answer["events"][1]["stateExitedEventDetails"] == {"name": "S2"}


def test_history_timestamps_are_epoch_seconds() -> None:
    # Given moto's ISO timestamps / When a page is shaped / Then JSON-protocol epoch seconds
    answer = history_page(events(1), {"executionArn": ARN})
    assert answer["events"][0]["timestamp"] == T0.timestamp()


def test_a_history_token_is_bound_to_the_order_it_was_issued_for() -> None:
    # Given a token of an ascending read
    token = history_page(events(10), {"executionArn": ARN, "maxResults": 2})["nextToken"]
    # When it is presented with reverseOrder / Then InvalidToken
    with pytest.raises(StatesError) as raised:
        history_page(events(10), {"executionArn": ARN, "reverseOrder": True, "nextToken": token})
    assert raised.value.code == "InvalidToken"


# -- executions --------------------------------------------------------------------------------


def execution(name: str, status: str, started: int, **fields: Any) -> SimpleNamespace:
    """An engine execution as moto's parser backend holds it (the attributes the reads use)."""
    defaults: dict[str, Any] = {
        "exec_arn": f"arn:aws:states:us-east-1:123456789012:execution:machine:{name}",
        "state_machine_arn": MACHINE,
        "state_machine": SimpleNamespace(arn=MACHINE),
        "name": name,
        "exec_status": SimpleNamespace(value=status),
        "start_date": T0 + timedelta(seconds=started),
        "stop_date": None if status == "RUNNING" else T0 + timedelta(seconds=started + 1),
        "input_data": {"taskId": name},
        "output": None,
        "error": None,
        "cause": None,
        "trace_header": None,
    }
    defaults.update(fields)
    return SimpleNamespace(**defaults)


def test_list_executions_is_newest_first_filtered_and_paged() -> None:
    # Given five executions, two of them failed
    runs = [
        execution("a", "SUCCEEDED", 1),
        execution("b", "FAILED", 2),
        execution("c", "SUCCEEDED", 3),
        execution("d", "FAILED", 4),
        execution("e", "RUNNING", 5),
    ]
    # When they are listed two at a time / Then newest first across pages
    first = list_page(runs, {"stateMachineArn": MACHINE, "maxResults": 2})
    second = list_page(
        runs, {"stateMachineArn": MACHINE, "maxResults": 2, "nextToken": first["nextToken"]}
    )
    assert [e["name"] for e in first["executions"]] == ["e", "d"]
    assert [e["name"] for e in second["executions"]] == ["c", "b"]
    # When only FAILED ones are asked for / Then exactly those, newest first, no token
    failed = list_page(runs, {"stateMachineArn": MACHINE, "statusFilter": "FAILED"})
    assert [e["name"] for e in failed["executions"]] == ["d", "b"]
    assert "nextToken" not in failed
    # And a running execution has no stopDate
    assert "stopDate" not in first["executions"][0]


def test_an_unknown_status_filter_is_a_validation_error() -> None:
    # Given a status AWS does not have / When it filters / Then ValidationException
    with pytest.raises(StatesError) as raised:
        list_page([], {"stateMachineArn": MACHINE, "statusFilter": "DONE"})
    assert raised.value.code == "ValidationException"


def test_a_failed_execution_is_described_with_error_cause_and_redrive_status() -> None:
    # Given a failed execution / When it is described
    failed = execution("b", "FAILED", 2, error="PermanentTaskError", cause="boom")
    answer = describe(failed, now=T0 + timedelta(minutes=1))
    # Then the console's fields: error, cause, dates, input and its details, redrive status
    assert answer["error"] == "PermanentTaskError" and answer["cause"] == "boom"
    assert answer["input"] == '{"taskId":"b"}' and answer["inputDetails"] == {"included": True}
    assert answer["stopDate"] > answer["startDate"]
    # ... and never REDRIVABLE, since the endpoint refuses RedriveExecution: it says so
    assert answer["redriveCount"] == 0 and answer["redriveStatus"] == "NOT_REDRIVABLE"
    assert (
        "RedriveExecution is not available on the local endpoint" in answer["redriveStatusReason"]
    )
    assert "output" not in answer


def test_a_succeeded_execution_is_described_with_output_and_not_redrivable() -> None:
    # Given a succeeded execution / When it is described
    done = execution("a", "SUCCEEDED", 1, output={"ok": True})
    answer = describe(done)
    # Then its output and details, and AWS's reason why it cannot be redriven
    assert answer["output"] == '{"ok":true}' and answer["outputDetails"] == {"included": True}
    assert answer["redriveStatus"] == "NOT_REDRIVABLE"
    assert answer["redriveStatusReason"] == "Execution is SUCCEEDED and cannot be redriven"


def test_the_redrive_filter_lists_none_redriven_and_all_not_redriven() -> None:
    # Given executions, none of them redriven (RedriveExecution is refused locally)
    runs = [execution("a", "FAILED", 1), execution("b", "SUCCEEDED", 2)]
    # When they are listed by redrive filter
    redriven = list_page(runs, {"stateMachineArn": MACHINE, "redriveFilter": "REDRIVEN"})
    not_redriven = list_page(runs, {"stateMachineArn": MACHINE, "redriveFilter": "NOT_REDRIVEN"})
    # Then none are redriven and all are not
    assert redriven["executions"] == []
    assert [e["name"] for e in not_redriven["executions"]] == ["b", "a"]


def test_a_map_run_arn_names_nothing_locally() -> None:
    # Given no distributed Map ever runs locally / When executions of a map run are listed
    with pytest.raises(StatesError) as raised:
        list_page([], {"mapRunArn": MACHINE.replace("stateMachine", "mapRun") + "/m:1"})
    # Then ResourceNotFound
    assert raised.value.code == "ResourceNotFound"
