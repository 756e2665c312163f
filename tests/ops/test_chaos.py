"""`ftb chaos`: the FIS calls it makes and what it does with the answers, on a fake FIS client
(the full path runs on the local cloud in tests/reliability/test_chaos_experiments.py)."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from ftb.ops import chaos
from ftb.ops.commands import chaos as command
from ftb.ops.output import Output

TEMPLATES = {
    "EXT1": {
        "id": "EXT1",
        "description": "process-task fails every invocation",
        "tags": {"Name": "process-task-total-failure"},
        "actions": {
            "Inject": {
                "actionId": "aws:lambda:invocation-error",
                "parameters": {"duration": "PT3M", "preventExecution": "true"},
            }
        },
        "stopConditions": [
            {"source": "aws:cloudwatch:alarm", "value": "arn:aws:cloudwatch:r:1:alarm:stack-Dlq"}
        ],
    },
    "EXTother": {"id": "EXTother", "description": "another stack's", "tags": {}, "actions": {}},
}


def experiment(status: str, action: str) -> dict[str, Any]:
    return {
        "id": "EXP1",
        "experimentTemplateId": "EXT1",
        "state": {"status": status, "reason": f"Experiment {status}."},
        "actions": {
            "Inject": {"actionId": "aws:lambda:invocation-error", "state": {"status": action}}
        },
    }


class FakeFis:
    """Answers as FIS does; GetExperiment walks through `states`, one per call."""

    def __init__(self, states: list[tuple[str, str]]) -> None:
        self.states = states
        self.calls: list[str] = []
        self.stopped = False

    def list_experiment_templates(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append("ListExperimentTemplates")
        if "nextToken" not in kwargs:  # two pages
            return {"experimentTemplates": [{"id": "EXT1"}], "nextToken": "1"}
        return {"experimentTemplates": [{"id": "EXTother"}]}

    def get_experiment_template(self, id: str) -> dict[str, Any]:
        return {"experimentTemplate": TEMPLATES[id]}

    def start_experiment(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(f"StartExperiment {kwargs['experimentTemplateId']}")
        assert kwargs["clientToken"]
        return {"experiment": experiment("initiating", "pending")}

    def get_experiment(self, id: str) -> dict[str, Any]:
        status, action = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        return {"experiment": experiment(status, action)}

    def stop_experiment(self, id: str) -> dict[str, Any]:
        self.calls.append(f"StopExperiment {id}")
        self.stopped = True
        self.states = [("stopping", "stopping"), ("stopped", "stopped")]
        return {"experiment": experiment("stopping", "stopping")}

    def list_experiments(self, **kwargs: Any) -> dict[str, Any]:
        return {
            "experiments": [
                {"id": "EXP1", "experimentTemplateId": "EXT1", "state": {"status": "running"}},
                {"id": "EXP0", "experimentTemplateId": "EXT1", "state": {"status": "completed"}},
                {"id": "EXP9", "experimentTemplateId": "EXTother", "state": {"status": "running"}},
            ]
        }


class FakeCloudFormation:
    def list_stack_resources(self, **kwargs: Any) -> dict[str, Any]:
        return {
            "StackResourceSummaries": [
                {"ResourceType": "AWS::FIS::ExperimentTemplate", "PhysicalResourceId": "EXT1"},
                {"ResourceType": "AWS::SQS::Queue", "PhysicalResourceId": "q"},
            ]
        }


class FakeTarget:
    kind, name, description = "local", "stack", "local cloud (fake)"

    def __init__(self, fis: FakeFis) -> None:
        self.fis = fis

    def client(self, service: str) -> Any:
        return self.fis if service == "fis" else FakeCloudFormation()


def test_only_the_stacks_templates_are_listed_with_their_actions_and_alarms() -> None:
    fis = FakeFis([("running", "running")])
    only = chaos.stack_template_ids(FakeCloudFormation(), "stack")
    found = chaos.templates(fis, only)
    assert [info.name for info in found] == ["process-task-total-failure"]
    assert found[0].actions == [
        "Inject: aws:lambda:invocation-error (duration=PT3M, preventExecution=true)"
    ]
    assert found[0].stop_conditions == ["stack-Dlq"]
    assert chaos.find_template(found, "EXT1") is found[0]


def test_follow_reports_each_new_state_until_the_experiment_ends() -> None:
    fis = FakeFis(
        [
            ("running", "pending"),
            ("running", "running"),
            ("running", "running"),
            ("completed", "completed"),
        ]
    )
    seen: list[tuple[str, str]] = []
    final = chaos.follow(
        fis,
        "EXP1",
        lambda what, e: seen.append(
            (
                what,
                e["state"]["status"]
                if what == "experiment"
                else e["actions"]["Inject"]["state"]["status"],
            )
        ),
        sleep=lambda _s: None,
    )
    assert final["state"]["status"] == "completed"
    assert seen == [
        ("experiment", "running"),
        ("action:Inject", "pending"),
        ("action:Inject", "running"),
        ("experiment", "completed"),
        ("action:Inject", "completed"),
    ]


def test_stop_without_an_id_stops_the_stacks_experiments_under_way() -> None:
    fis = FakeFis([("running", "running")])
    assert [e["id"] for e in chaos.under_way(fis, {"EXT1"})] == ["EXP1"]


def run_args(**extra: Any) -> argparse.Namespace:
    return argparse.Namespace(
        name="process-task-total-failure", no_follow=False, interval=0, **extra
    )


def test_run_starts_the_named_template_and_follows_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fis = FakeFis([("running", "running"), ("stopped", "stopped")])
    monkeypatch.setattr(command, "resolve_target", lambda args, output: FakeTarget(fis))
    code = command._run(run_args(), Output())
    assert code == 0
    assert "StartExperiment EXT1" in fis.calls
    out = capsys.readouterr()
    assert "experiment running" in out.out and "experiment stopped" in out.out


def test_ctrl_c_without_a_terminal_stops_the_experiment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given an experiment being followed
    fis = FakeFis([("running", "running")])
    monkeypatch.setattr(command, "resolve_target", lambda args, output: FakeTarget(fis))
    real_follow = chaos.follow
    interrupted: list[bool] = []

    def follow_once_interrupted(*args: Any, **kwargs: Any) -> dict[str, Any]:
        if not interrupted:
            interrupted.append(True)
            raise KeyboardInterrupt
        return real_follow(*args, **kwargs)

    monkeypatch.setattr(chaos, "follow", follow_once_interrupted)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    # When Ctrl-C arrives (no terminal to ask)
    code = command._run(run_args(), Output())
    # Then the experiment is stopped, and followed until it is
    assert fis.stopped and "StopExperiment EXP1" in fis.calls
    assert code == 0


def test_an_unknown_name_is_a_usage_error_naming_the_templates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fis = FakeFis([("running", "running")])
    monkeypatch.setattr(command, "resolve_target", lambda args, output: FakeTarget(fis))
    args = run_args()
    args.name = "nope"
    with pytest.raises(command.CommandError) as raised:
        command._run(args, Output())
    assert "process-task-total-failure" in raised.value.hint
