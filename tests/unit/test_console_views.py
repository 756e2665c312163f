"""The task console's views without a cloud: the graph's outcomes, the attempts and their
backoffs, the timeline, and the API's answers to bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ftb.ops.commands.history import analyse
from ftb.ops.console import api, graph, task_view
from ftb.ops.target import Target

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DEFINITION = (
    Path(__file__).resolve().parents[2] / "statemachine" / "task_workflow.asl.json"
).read_text()


def _event(
    number: int, kind: str, seconds: float, previous: int | None, **details: Any
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": number,
        "type": kind,
        "timestamp": T0 + timedelta(seconds=seconds),
    }
    if previous is not None:
        event["previousEventId"] = previous
    if details:
        key = kind[0].lower() + kind[1:] + "EventDetails"
        for suffix in ("StateEntered", "StateExited"):
            if kind.endswith(suffix):
                key = "state" + suffix.replace("State", "") + "EventDetails"
        event[key] = details
    return event


def retried_then_caught() -> list[dict[str, Any]]:
    """ProcessTask fails three tries (backoffs 2 s and 4 s), the Catch dead-letters it."""
    events = [
        _event(1, "ExecutionStarted", 0, None),
        _event(2, "TaskStateEntered", 0.01, 1, name="ProcessTask"),
    ]
    number, at, previous = 3, 0.02, 2
    for attempt, backoff in ((1, 2.0), (2, 4.0), (3, None)):
        events.append(
            _event(number, "TaskScheduled", at, previous, resource="invoke", resourceType="lambda")
        )
        events.append(_event(number + 1, "TaskStarted", at + 0.01, number))
        events.append(
            _event(
                number + 2,
                "TaskFailed",
                at + 0.5,
                number + 1,
                error="TransientTaskError",
                cause=f'{{"errorMessage": "failure on attempt {attempt}"}}',
            )
        )
        previous, number = number + 2, number + 3
        at += 0.5 + (backoff or 0)
    events += [
        _event(number, "TaskStateEntered", at, previous, name="SendToDeadLetterQueue"),
        _event(
            number + 1,
            "TaskScheduled",
            at + 0.01,
            number,
            resource="sendMessage",
            resourceType="sqs",
        ),
        _event(number + 2, "TaskSucceeded", at + 0.02, number + 1),
        _event(number + 3, "TaskStateExited", at + 0.03, number + 2, name="SendToDeadLetterQueue"),
        _event(number + 4, "FailStateEntered", at + 0.04, number + 3, name="TaskFailed"),
        _event(number + 5, "ExecutionFailed", at + 0.05, number + 4, error="TransientTaskError"),
    ]
    return events


def test_the_graph_names_each_states_outcome() -> None:
    # Given a run whose work state failed three tries and was caught
    rows = analyse(retried_then_caught()).rows
    # When its graph is drawn from the definition it executed
    nodes = {
        node["id"]: node for node in graph.run_graph(DEFINITION, rows, "FAILED").to_json()["nodes"]
    }
    # Then each state says what happened to it, retries counted
    assert nodes["ProcessTask"]["outcome"] == "caught"
    assert nodes["ProcessTask"]["retries"] == 2
    assert nodes["ProcessTask"]["label"] == "caught · retried 2x"
    assert nodes["SendToDeadLetterQueue"]["outcome"] == "succeeded"
    assert nodes["TaskFailed"]["outcome"] == "failed"


def test_a_state_never_entered_is_not_reached_and_a_running_one_running() -> None:
    events = retried_then_caught()[:4]  # entered ProcessTask, first try scheduled and started
    nodes = {
        n["id"]: n
        for n in graph.run_graph(DEFINITION, analyse(events).rows, "RUNNING").to_json()["nodes"]
    }
    assert nodes["ProcessTask"]["outcome"] == "running"
    assert nodes["SendToDeadLetterQueue"]["outcome"] == "not reached"
    assert nodes["TaskFailed"]["outcome"] == "not reached"


def test_a_definition_without_states_is_refused() -> None:
    with pytest.raises(ValueError, match="States"):
        graph.parse_definition('{"StartAt": "X"}')


def test_attempts_carry_error_message_duration_and_the_backoff_before_the_next() -> None:
    rows = analyse(retried_then_caught()).rows
    attempts = [a.to_json(T0) for a in task_view.attempts_of(rows)]
    assert [a["outcome"] for a in attempts] == ["failed", "failed", "failed"]
    assert [a["error"] for a in attempts] == ["TransientTaskError"] * 3
    assert attempts[1]["message"] == "failure on attempt 2"
    assert [a["backoffAfterSeconds"] for a in attempts] == [2.0, 4.0, None]
    assert attempts[0]["durationSeconds"] == 0.5


def test_the_timeline_puts_attempts_and_backoffs_on_one_axis() -> None:
    rows = analyse(retried_then_caught()).rows
    bars = task_view.timeline(rows, task_view.attempts_of(rows), T0)
    kinds = [bar["kind"] for bar in bars]
    assert kinds.count("attempt") == 3 and kinds.count("backoff") == 2
    backoffs = [bar for bar in bars if bar["kind"] == "backoff"]
    assert backoffs[0]["start"] == pytest.approx(0.52) and backoffs[0]["end"] == pytest.approx(2.52)


@pytest.fixture
def console_api() -> api.ConsoleApi:
    target = Target(
        kind="local",
        name="FaultTolerantBackend",
        region="us-east-1",
        outputs={
            "TasksTableName": "tasks",
            "StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:m",
        },
        endpoint_url="http://127.0.0.1:9",  # nothing answers: bad input must be refused first
    )
    return api.ConsoleApi(target)


@pytest.mark.parametrize(
    ("path", "query", "message"),
    [
        ("/api/tasks", {"status": ["DONE"]}, "status must be one of"),
        ("/api/tasks", {"page": ["two"]}, "page must be a whole number"),
        ("/api/tasks", {"since": ["yesterday"]}, "not a duration"),
        ("/api/tasks/bad id!", {}, "is not a taskId"),
        ("/api/dead-letters", {"since": ["3 fortnights"]}, "not a duration"),
    ],
)
def test_bad_input_is_a_400_that_says_what_was_wrong(
    console_api: api.ConsoleApi, path: str, query: dict[str, list[str]], message: str
) -> None:
    status, body = console_api.get(path, query)
    assert status == 400 and message in body["error"]


@pytest.mark.parametrize(
    "body",
    [
        None,
        {},
        {"taskIds": []},
        {"taskIds": "task-1"},
        {"taskIds": [1]},
        {"taskIds": ["no spaces allowed"]},
    ],
)
def test_a_bad_redrive_body_is_a_400(console_api: api.ConsoleApi, body: Any) -> None:
    status, answer = console_api.post("/api/redrive", body)
    assert status == 400, answer


def test_an_unknown_api_is_a_404(console_api: api.ConsoleApi) -> None:
    assert console_api.get("/api/nothing", {})[0] == 404
    assert console_api.post("/api/nothing", {})[0] == 404


def test_a_malformed_querys_offset_becomes_a_line_and_column() -> None:
    query = "fields @message\n| filter x\n| sortt @timestamp"
    found = api._line_column(query, {"startCharOffset": query.index("sortt"), "endCharOffset": 40})
    assert (found["line"], found["column"]) == (3, 3)


def test_a_snapshot_nobody_read_for_a_while_is_refreshed_before_it_is_answered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from types import SimpleNamespace

    from ftb.ops.console import task_index

    # Given a task index whose snapshot was taken when the table was empty (a quick refresh)
    tables: list[list[Any]] = [[], ["task-1", "task-2"]]
    monkeypatch.setattr(task_index, "build_rows", lambda *_: tables.pop(0))
    target = SimpleNamespace(
        table=lambda: None, client=lambda _: None, state_machine_arn="arn:machine"
    )
    index = task_index.TaskIndex(target)  # type: ignore[arg-type]
    assert index.rows()[0] == []
    # When a page asks long after, once tasks arrived
    monkeypatch.setattr(index, "_taken_at", index._taken_at - task_index.STALE_SECONDS - 1)
    rows, age = index.rows()
    # Then it gets the fresh snapshot, not the stale one (refreshed before the answer)
    assert rows == ["task-1", "task-2"] and age < 1
