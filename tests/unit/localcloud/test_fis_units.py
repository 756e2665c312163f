"""FIS locally, without a cloud: templates checked as FIS checks them, the extension's
behaviour at the runtime's hook, an experiment's states, startAfter and stop conditions."""

from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from ftb.localcloud.fis.experiment import Experiment, FunctionTarget, alarm_name
from ftb.localcloud.fis.injector import FIS_ERROR_TYPE, ActiveAction, FisInjector, chain_faults
from ftb.localcloud.fis.model import (
    ExperimentTemplate,
    Selection,
    TemplateInvalid,
    from_properties,
    parse_duration,
)
from ftb.localcloud.lambda_runtime import FunctionSpec, InvokeResult

ALARM_ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:stack-DeadLetteredTasks"
FUNCTION = FunctionSpec(
    name="stack-process-task",
    arn="arn:aws:lambda:us-east-1:123456789012:function:stack-process-task",
    code_dir=Path("."),
    handler="process_task.handler",
    environment={},
    timeout_seconds=0.5,
)
OTHER = FunctionTarget("arn:aws:lambda:us-east-1:123456789012:function:other", "other", {}, {})
TARGET = FunctionTarget(FUNCTION.arn, FUNCTION.name, {"chaos-target": "yes"}, {})


def props(actions: dict[str, Any], **target: Any) -> dict[str, Any]:
    return {
        "Description": "test",
        "RoleArn": "arn:aws:iam::123456789012:role/fis",
        "Targets": {
            "Functions": {
                "ResourceType": "aws:lambda:function",
                "SelectionMode": "ALL",
                **(target or {"ResourceArns": [FUNCTION.arn]}),
            }
        },
        "Actions": actions,
        "StopConditions": [{"Source": "aws:cloudwatch:alarm", "Value": ALARM_ARN}],
        "Tags": {"Name": "test-experiment"},
    }


def error_action(duration: str = "PT1S", percent: str = "100", prevent: str = "true") -> dict:
    return {
        "ActionId": "aws:lambda:invocation-error",
        "Parameters": {
            "duration": duration,
            "invocationPercentage": percent,
            "preventExecution": prevent,
        },
        "Targets": {"Functions": "Functions"},
    }


def template(properties: dict[str, Any]) -> ExperimentTemplate:
    return from_properties(
        properties, template_id="EXTtest", arn="arn:fis", logical_id="Test", created=0.0
    )


# -- templates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"), [("PT1M", 60), ("PT30S", 30), ("PT1H30M", 5400), ("P1D", 86400)]
)
def test_iso_8601_durations_are_read_as_fis_reads_them(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["1m", "PT", "P", "PTM", "60"])
def test_a_duration_that_is_not_iso_8601_is_refused(text: str) -> None:
    with pytest.raises(TemplateInvalid):
        parse_duration(text)


def test_selection_modes_pick_all_a_count_or_a_percentage() -> None:
    assert Selection.parse("ALL").size(7) == 7
    assert Selection.parse("COUNT(2)").size(7) == 2
    assert Selection.parse("COUNT(9)").size(7) == 7
    assert Selection.parse("PERCENT(50)").size(7) == 3
    assert Selection.parse("PERCENT(10)").size(3) == 1  # at least one when any is there
    with pytest.raises(TemplateInvalid):
        Selection.parse("SOME")


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (error_action(percent="0"), "invocationPercentage"),
        (error_action(prevent="maybe"), "preventExecution"),
        ({**error_action(), "Parameters": {"invocationPercentage": "10"}}, "duration"),
        (
            {
                "ActionId": "aws:lambda:invocation-add-delay",
                "Parameters": {"duration": "PT1M", "startupDelayMilliseconds": "900001"},
                "Targets": {"Functions": "Functions"},
            },
            "startupDelayMilliseconds",
        ),
        (
            {
                "ActionId": "aws:lambda:invocation-http-integration-response",
                "Parameters": {"duration": "PT1M", "preventExecution": "true", "statusCode": "500"},
                "Targets": {"Functions": "Functions"},
            },
            "contentTypeHeader",
        ),
        ({**error_action(), "Parameters": {"duration": "PT1M", "bogus": "1"}}, "bogus"),
        ({**error_action(), "Targets": {"Functions": "Nowhere"}}, "Nowhere"),
        ({**error_action(), "StartAfter": ["Missing"]}, "Missing"),
    ],
)
def test_a_template_fis_would_refuse_is_refused_with_the_reason(
    action: dict[str, Any], message: str
) -> None:
    with pytest.raises(TemplateInvalid, match=message):
        template(props({"A": action}))


def test_start_after_cycles_are_refused() -> None:
    with pytest.raises(TemplateInvalid, match="cycle"):
        template(
            props(
                {
                    "A": {**error_action(), "StartAfter": ["B"]},
                    "B": {**error_action(), "StartAfter": ["A"]},
                }
            )
        )


def test_the_template_reads_back_in_the_apis_shape() -> None:
    document = template(props({"Fail": error_action()})).to_api()
    assert document["actions"]["Fail"]["actionId"] == "aws:lambda:invocation-error"
    assert document["targets"]["Functions"]["resourceArns"] == [FUNCTION.arn]
    assert document["stopConditions"] == [{"source": "aws:cloudwatch:alarm", "value": ALARM_ARN}]
    assert document["tags"] == {"Name": "test-experiment"}


def test_an_alarm_arn_names_its_alarm() -> None:
    assert alarm_name(ALARM_ARN) == "stack-DeadLetteredTasks"


# -- the extension's behaviour at the runtime's hook ----------------------------------------


def run_invocation(faults: Any, handler_result: InvokeResult) -> tuple[InvokeResult, bool]:
    """(the answer, whether the handler ran), as LambdaRuntime._invoke calls the hook."""
    answer = faults.before_invoke(FUNCTION, b"{}")
    if answer is not None:
        return answer, False
    return faults.after_invoke(FUNCTION, b"{}", handler_result), True


OK = InvokeResult(200, b'{"ok": true}', None)


def injector_with(action: dict[str, Any], seed: int = 1) -> FisInjector:
    injector = FisInjector(random.Random(seed))
    spec = template(props({"A": action})).actions["A"]
    injector.activate([FUNCTION.arn], ActiveAction("EXP1", spec, time.monotonic()))
    return injector


def test_invocation_error_with_prevent_execution_fails_before_the_handler() -> None:
    answer, ran = run_invocation(injector_with(error_action()), OK)
    assert not ran
    assert answer.function_error == "Unhandled"
    assert json.loads(answer.payload)["errorType"] == FIS_ERROR_TYPE


def test_invocation_error_without_prevent_execution_runs_the_handler_then_fails() -> None:
    answer, ran = run_invocation(injector_with(error_action(prevent="false")), OK)
    assert ran
    assert answer.function_error == "Unhandled"


def test_invocation_percentage_is_the_share_of_invocations_failed() -> None:
    injector = injector_with(error_action(percent="30"), seed=7)
    failed = sum(run_invocation(injector, OK)[0].function_error is not None for _ in range(2000))
    assert 500 <= failed <= 700


def test_add_delay_holds_the_start_and_a_delay_past_the_timeout_is_a_timeout() -> None:
    delay = {
        "ActionId": "aws:lambda:invocation-add-delay",
        "Parameters": {"duration": "PT1M", "startupDelayMilliseconds": "200"},
        "Targets": {"Functions": "Functions"},
    }
    started = time.monotonic()
    answer, ran = run_invocation(injector_with(delay), OK)
    assert ran and answer is OK and time.monotonic() - started >= 0.2
    delay["Parameters"] = {"duration": "PT1M", "startupDelayMilliseconds": "800"}
    answer, ran = run_invocation(injector_with(delay), OK)
    assert not ran
    assert json.loads(answer.payload)["errorType"] == "Sandbox.Timedout"


def test_http_integration_response_answers_the_proxy_response() -> None:
    action = {
        "ActionId": "aws:lambda:invocation-http-integration-response",
        "Parameters": {
            "duration": "PT1M",
            "preventExecution": "true",
            "statusCode": "503",
            "contentTypeHeader": "application/json",
        },
        "Targets": {"Functions": "Functions"},
    }
    answer, ran = run_invocation(injector_with(action), OK)
    assert not ran and answer.function_error is None
    assert json.loads(answer.payload) == {
        "statusCode": 503,
        "headers": {"Content-Type": "application/json"},
        "body": "",
    }


def test_a_function_no_action_targets_is_untouched() -> None:
    injector = injector_with(error_action())
    other = FunctionSpec("other", OTHER.arn, Path("."), "x.handler", {})
    assert injector.before_invoke(other, b"{}") is None


def test_chained_layers_see_an_earlier_answer_after() -> None:
    seen: list[str] = []

    class Counting:
        def before_invoke(self, spec: FunctionSpec, payload: bytes) -> None:
            seen.append("before")

        def after_invoke(self, spec: FunctionSpec, payload: bytes, result: InvokeResult) -> Any:
            seen.append(f"after:{result.function_error}")
            return result

    answer, ran = run_invocation(chain_faults(Counting(), injector_with(error_action())), OK)
    assert not ran and answer.function_error == "Unhandled"
    assert seen == ["before", "after:Unhandled"]


# -- an experiment's run --------------------------------------------------------------------


class Alarms:
    def __init__(self) -> None:
        self.states: dict[str, str] = {}
        self.calls = 0

    def __call__(self, names: list[str]) -> dict[str, str]:
        self.calls += 1
        return {name: self.states[name] for name in names if name in self.states}


def experiment(actions: dict[str, Any], alarms: Alarms, **target: Any) -> Experiment:
    return Experiment(
        "EXP1",
        "arn:fis:experiment/EXP1",
        template(props(actions, **target)),
        functions=[TARGET, OTHER],
        injector=FisInjector(),
        alarm_states=alarms,
        poll_seconds=0.05,
    )


def wait_end(run: Experiment, timeout: float = 10) -> None:
    run.join(timeout)
    assert run.finished, run.to_api()["state"]


def test_actions_run_in_start_after_order_and_the_experiment_completes() -> None:
    # Given two actions, the second after the first
    run = experiment(
        {
            "First": error_action("PT0.3S"),
            "Second": {**error_action("PT0.2S"), "StartAfter": ["First"]},
        },
        Alarms(),
    )
    # When the experiment runs
    run.begin()
    wait_end(run)
    # Then the second started when the first ended, and both completed
    document = run.to_api()
    first, second = document["actions"]["First"], document["actions"]["Second"]
    assert document["state"]["status"] == "completed"
    assert first["state"]["status"] == second["state"]["status"] == "completed"
    assert second["startTime"] >= first["endTime"]


def test_an_alarm_in_alarm_stops_the_experiment_within_a_poll() -> None:
    # Given a long experiment whose stop condition's alarm is OK
    alarms = Alarms()
    alarms.states["stack-DeadLetteredTasks"] = "OK"
    run = experiment({"Fail": error_action("PT1M")}, alarms)
    run.begin()
    deadline = time.monotonic() + 5
    while run.to_api()["actions"]["Fail"]["state"]["status"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert run.injector.active_on(FUNCTION.arn)
    # When the alarm goes to ALARM
    alarms.states["stack-DeadLetteredTasks"] = "ALARM"
    tripped = time.monotonic()
    wait_end(run)
    # Then the experiment is stopped within one poll (plus a tick), and the fault is lifted
    assert time.monotonic() - tripped < 0.5
    document = run.to_api()
    assert document["state"]["status"] == "stopped"
    assert "stack-DeadLetteredTasks" in document["state"]["reason"]
    assert document["actions"]["Fail"]["state"]["status"] == "stopped"
    assert not run.injector.active_on(FUNCTION.arn)


def test_a_stop_request_stops_running_actions_and_cancels_pending_ones() -> None:
    run = experiment(
        {"First": error_action("PT1M"), "Later": {**error_action(), "StartAfter": ["First"]}},
        Alarms(),
    )
    run.begin()
    time.sleep(0.2)
    run.request_stop()
    wait_end(run)
    document = run.to_api()
    assert document["state"]["status"] == "stopped"
    assert document["actions"]["First"]["state"]["status"] == "stopped"
    assert document["actions"]["Later"]["state"]["status"] == "cancelled"


def test_targets_by_tag_pick_only_the_tagged_functions() -> None:
    run = experiment(
        {"Fail": error_action("PT0.1S")}, Alarms(), ResourceTags={"chaos-target": "yes"}
    )
    run.begin()
    wait_end(run)
    assert run.resolved == {"Functions": [FUNCTION.arn]}


def test_a_target_that_resolves_to_nothing_fails_the_experiment() -> None:
    run = experiment({"Fail": error_action()}, Alarms(), ResourceTags={"absent": "tag"})
    run.begin()
    wait_end(run)
    state = run.to_api()["state"]
    assert state["status"] == "failed"
    assert "Target resolution failed" in state["reason"]


def test_only_one_thread_per_experiment_touches_the_injector() -> None:
    # Given an experiment running while invocations arrive from many threads
    run = experiment({"Fail": error_action("PT0.5S", percent="50")}, Alarms())
    run.begin()
    results: list[InvokeResult] = []

    def invoke() -> None:
        for _ in range(50):
            results.append(run_invocation(run.injector, OK)[0])

    threads = [threading.Thread(target=invoke) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_end(run)
    # Then every invocation got one answer, and nothing stays injected after the end
    assert len(results) == 200
    assert not run.injector.active_on(FUNCTION.arn)
