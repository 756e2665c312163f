"""The stack's FIS experiments, run locally under load (issue 19, item 4).

`ftb local --app tests.support.chaos_app.app` (the real stack plus four
`AWS::FIS::ExperimentTemplate`s in AWS's CloudFormation shape); each experiment is started
through the FIS API on the local endpoint (`ftb chaos run`) while clients submit tasks, and
the accounting of tests/support/accounting.py proves, from the cloud's own records, that
every accepted task reached exactly one terminal outcome, that there is no duplicate, that
every failure was dead-lettered and logged by the monitor.

Stop conditions: the experiments read their alarms only through CloudWatch's DescribeAlarms
on the endpoint, and the local cloud evaluates the stack's alarms (in scaled time,
`--alarm-period-scale`). An experiment started while its stop condition is in ALARM stops at
its first check, so each experiment starts once its alarm is out of ALARM (what an operator
does too: the previous experiment's dead letters keep DeadLetteredTasks in ALARM for a period).

Scaled time (docs/decisions.md "Reliability suites run in scaled time"): the templates'
durations are seconds, the starter's backoff 1 s..60 s, the visibility timeouts 31 s / 10 s,
the alarms' clock x0.1 (a 300 s period lasts 30 s, alarms are evaluated every 6 s).
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.accounting import (
    Accounting,
    TaskPlan,
    account,
    executions,
    fault_args,
    local_cloud,
    monitor_records,
    plan_workload,
    queue_depth,
    render,
    size_from_env,
    submit_all,
    wait_until_quiet,
)
from tests.support.chaos_app import names as chaos
from tests.support.local_cloud import REPO_ROOT, LocalCloudProcess, wait_for

N = size_from_env("FTB_CHAOS_N", 40)
DRAIN_TIMEOUT_SECONDS = 240 + 1.5 * N
STOP_POLL_SECONDS = 1.0  # how often a local experiment reads its stop conditions
ALARM_SCALE = 0.1  # --alarm-period-scale
EVALUATION_SECONDS = 60 * ALARM_SCALE  # how often the local CloudWatch evaluates the alarms
FIS_ERROR = "FaultInjectionService.InvocationError"

pytestmark = [pytest.mark.reliability, pytest.mark.cloud, pytest.mark.timeout(1800)]

SCALED_TIME = [
    "visibility-timeout:task-queue=31",
    "visibility-timeout:dead-letter-queue=10",
]
ENV = [
    "process-task:FAILURE_RATE=0",  # every failure is an injected one (or an id ending in 3)
    "start-execution:START_BACKOFF_BASE_SECONDS=1",
    "start-execution:START_BACKOFF_MAX_SECONDS=60",
]


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    work_dir: Path = tmp_path_factory.mktemp("chaos")
    args = [
        "--app",
        "tests.support.chaos_app.app",
        "--alarm-period-scale",
        str(ALARM_SCALE),
        *fault_args(SCALED_TIME, ENV),
    ]
    with local_cloud("chaos", args, work_dir) as running:
        yield running


def report(name: str, figures: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    """The experiment's figures, printed even without -s (docs/reliability.md quotes them)."""
    width = max(len(key) for key in figures)
    lines = [f"FIS experiment {name}, run locally (N={N}):"]
    lines += [f"  {key.ljust(width)}  {value}" for key, value in figures.items()]
    with capsys.disabled():
        print("\n" + "\n".join(lines))


def ftb(cloud: LocalCloudProcess, *args: str, timeout: float = 600) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ftb.cli", *args, "--state-file", str(cloud.state_file)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def experiment_of(cloud: LocalCloudProcess, name: str, since: float) -> dict[str, Any] | None:
    fis = cloud.client("fis")
    templates = {
        t["id"]: t["tags"].get("Name")
        for t in fis.list_experiment_templates()["experimentTemplates"]
    }
    for summary in fis.list_experiments()["experiments"]:
        created: datetime = summary["creationTime"]
        if templates.get(summary["experimentTemplateId"]) == name and created.timestamp() >= since:
            return fis.get_experiment(id=summary["id"])["experiment"]  # type: ignore[no-any-return]
    return None


def status_of(cloud: LocalCloudProcess, experiment_id: str) -> dict[str, Any]:
    return cloud.client("fis").get_experiment(id=experiment_id)["experiment"]  # type: ignore[no-any-return]


def stop_alarms(cloud: LocalCloudProcess, name: str) -> list[str]:
    """The names of the alarms the template's stop conditions name."""
    fis = cloud.client("fis")
    for summary in fis.list_experiment_templates()["experimentTemplates"]:
        if summary["tags"].get("Name") == name:
            template = fis.get_experiment_template(id=summary["id"])["experimentTemplate"]
            return [
                str(c["value"]).partition(":alarm:")[2]
                for c in template["stopConditions"]
                if c["source"] == "aws:cloudwatch:alarm"
            ]
    raise AssertionError(f"no experiment template named {name}")


def wait_for_stop_alarms_ok(cloud: LocalCloudProcess, name: str) -> None:
    """Until no stop condition of the experiment is in ALARM (else it stops at once)."""
    names = stop_alarms(cloud, name)
    cloudwatch = cloud.client("cloudwatch")

    def calm() -> bool | None:
        alarms = cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"]
        return all(a["StateValue"] != "ALARM" for a in alarms) or None

    wait_for(calm, 120 + 5 * 300 * ALARM_SCALE, f"{names} out of ALARM before {name}", 1)


def run_under_load(
    cloud: LocalCloudProcess, name: str, run: str
) -> tuple[subprocess.Popen[str], dict[str, Any], list[TaskPlan], float]:
    """`ftb chaos run NAME` (following it), then N tasks submitted while it runs."""
    wait_for_stop_alarms_ok(cloud, name)
    since = time.time() - 1
    follower = ftb(cloud, "chaos", "run", name)
    started = wait_for(
        lambda: (
            (e := experiment_of(cloud, name, since)) and e["state"]["status"] == "running" and e
        ),
        60,
        f"experiment {name} to run",
    )
    plans = plan_workload(N, run=run)
    submit_seconds = submit_all(cloud.tasks_endpoint, plans)
    return follower, started, plans, submit_seconds


def accounting_of(cloud: LocalCloudProcess, plans: list[TaskPlan], run: str) -> Accounting:
    """The accounting of this experiment's tasks only (their ids carry the run)."""
    prefix = f"rel-{run}-"
    found = [e for e in executions(cloud) if e.name.startswith(prefix)]
    failed = {e.name for e in found if e.status == "FAILED"}

    def logged() -> list[dict[str, Any]] | None:
        records = [r for r in monitor_records(cloud) if str(r.get("taskId")).startswith(prefix)]
        return records if failed <= {str(r.get("taskId")) for r in records} else None

    monitor = wait_for(logged, 90, "the monitor's records of every failure", interval=2)
    queues = {
        "task queue": queue_depth(cloud, cloud.outputs["TaskQueueUrl"]),
        "dead-letter queue": queue_depth(cloud, cloud.outputs["DeadLetterQueueUrl"]),
    }
    return account(plans, found, monitor, queues, {}, {})


def finish(follower: subprocess.Popen[str]) -> str:
    output, _ = follower.communicate(timeout=300)
    assert follower.returncode == 0, output
    return output


def assert_accounted(result: Accounting, title: str) -> None:
    print(render(title, result))
    assert result.ok, "\n".join(
        f"{c.name}: expected {c.expected}, observed {c.observed}" for c in result.failures()
    )


def outcome_figures(result: Accounting, injected: int) -> dict[str, str]:
    statuses = [e.status for e in result.executions]
    return {
        "tasks accepted": f"{sum(plan.accepted for plan in result.plans)} of {len(result.plans)}",
        "outcomes": f"SUCCEEDED {statuses.count('SUCCEEDED')}, FAILED {statuses.count('FAILED')}",
        "dead letters (logged by the monitor)": str(
            len({str(r.get("taskId")) for r in result.monitor})
        ),
        "failures injected by FIS (dead-lettered)": str(injected),
    }


def injected_failures(result: Accounting) -> int:
    return len(
        {str(r.get("taskId")) for r in result.monitor if FIS_ERROR in str(r.get("error", ""))}
    )


def injected_attempts(cloud: LocalCloudProcess, result: Accounting) -> tuple[int, int, int]:
    """From the executions' histories: process-task attempts failed by FIS, the tasks they
    hit, and how many of those the workflow's Retry still brought to SUCCEEDED. Asserts that
    every task hit either succeeded, or was dead-lettered with FIS's error (three attempts
    failed), or is a permanent one (id ending in 3) that failed on its own error afterwards."""
    attempts, hit, absorbed = 0, 0, 0
    dead_lettered_by_fis = {
        str(r.get("taskId")) for r in result.monitor if FIS_ERROR in str(r.get("error", ""))
    }
    for execution in result.executions:
        failed = sum(
            1
            for event in cloud.history(execution.name)
            if event["type"] == "TaskFailed"
            and event["taskFailedEventDetails"].get("error") == FIS_ERROR
        )
        if not failed:
            continue
        attempts, hit = attempts + failed, hit + 1
        if execution.status == "SUCCEEDED":
            absorbed += 1
        else:
            assert execution.name in dead_lettered_by_fis or execution.name.endswith("3"), (
                execution.name,
                failed,
            )
    return attempts, hit, absorbed


# -- the experiments ----------------------------------------------------------------------------


def test_partial_failure_every_task_ends_once_and_every_failure_is_dead_lettered(
    cloud: LocalCloudProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    run = uuid.uuid4().hex[:6]
    # Given process-task failing 30 % of its invocations (FIS invocation-error, by tag)
    follower, experiment, plans, submit_seconds = run_under_load(cloud, chaos.PARTIAL_FAILURE, run)
    # When N tasks are submitted while it runs, and everything settles
    output = finish(follower)
    wait_until_quiet(cloud, timeout=DRAIN_TIMEOUT_SECONDS)
    result = accounting_of(cloud, plans, run)
    # Then every promise holds, and the fault really happened
    assert_accounted(result, f"{chaos.PARTIAL_FAILURE}: N={N}")
    injected = injected_failures(result)
    attempts, hit, absorbed = injected_attempts(cloud, result)
    assert attempts > 0, "no invocation failed"
    # And the workflow's Retry absorbed the injected failures: a task is dead-lettered by them
    # only when all three of its attempts failed
    assert absorbed > 0, (attempts, hit, absorbed, injected)
    # And the experiment ran its duration, unless its stop condition fired: the error rate
    # of a (scaled) period with few invocations can reach 50 % (the permanent failures count
    # too), and then FIS stops it, as on AWS
    final = status_of(cloud, experiment["id"])
    rate_alarm = f"{cloud.state['stackName']}-{chaos.STOP_ALARMS[chaos.PARTIAL_FAILURE]}"
    if final["state"]["status"] == "stopped":
        assert rate_alarm in final["state"]["reason"], final["state"]
        assert "stopped" in output
    else:
        assert final["state"]["status"] == "completed", final["state"]
        assert "completed" in output
    report(
        chaos.PARTIAL_FAILURE,
        {
            **outcome_figures(result, injected),
            "attempts failed by FIS": str(attempts),
            "tasks hit / absorbed by retries": f"{hit} / {absorbed}",
            "experiment": f"{final['state']['reason']} (duration {chaos.PARTIAL_DURATION})",
            "submit seconds": f"{submit_seconds:.1f}",
        },
        capsys,
    )


def test_start_delay_is_absorbed_by_the_queue(
    cloud: LocalCloudProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    run = uuid.uuid4().hex[:6]
    # Given start-execution delayed 1.5 s on every invocation (FIS invocation-add-delay)
    follower, experiment, plans, submit_seconds = run_under_load(cloud, chaos.START_DELAY, run)
    # When N tasks are submitted while it runs
    finish(follower)
    wait_until_quiet(cloud, timeout=DRAIN_TIMEOUT_SECONDS)
    result = accounting_of(cloud, plans, run)
    # Then every task ends once, and only the permanent ones fail: nothing is lost to the delay
    assert_accounted(result, f"{chaos.START_DELAY}: N={N}")
    assert injected_failures(result) == 0
    final = status_of(cloud, experiment["id"])
    assert final["state"]["status"] == "completed"
    report(
        chaos.START_DELAY,
        {
            **outcome_figures(result, 0),
            "experiment": f"{final['state']['status']} after {chaos.DELAY_DURATION}",
            "submit seconds": f"{submit_seconds:.1f}",
        },
        capsys,
    )


def test_submit_errors_are_retried_by_clients_and_nothing_is_half_accepted(
    cloud: LocalCloudProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    run = uuid.uuid4().hex[:6]
    # Given submit-task answering 503 to 25 % of its callers (invocation-http-integration-response)
    follower, experiment, plans, submit_seconds = run_under_load(cloud, chaos.SUBMIT_ERRORS, run)
    finish(follower)
    wait_until_quiet(cloud, timeout=DRAIN_TIMEOUT_SECONDS)
    result = accounting_of(cloud, plans, run)
    # Then clients saw the 5xx and retried, and every accepted task ran exactly once
    # (`executions of taskIds never accepted` = 0: a 503 left nothing behind)
    assert_accounted(result, f"{chaos.SUBMIT_ERRORS}: N={N}")
    server_errors = sum(r.server_errors for plan in plans for r in plan.requests)
    assert server_errors > 0, "no caller saw the injected 503"
    final = status_of(cloud, experiment["id"])
    assert final["state"]["status"] == "completed"
    report(
        chaos.SUBMIT_ERRORS,
        {
            **outcome_figures(result, 0),
            "5xx answered to callers (retried)": str(server_errors),
            "experiment": f"{final['state']['status']} after {chaos.SUBMIT_DURATION}",
            "submit seconds": f"{submit_seconds:.1f}",
        },
        capsys,
    )


def alarm_state(cloud: LocalCloudProcess, name: str) -> dict[str, Any] | None:
    alarms = cloud.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return alarms[0] if alarms else None


def test_total_failure_dead_letters_the_tasks_it_fails_and_stops_on_the_alarm(
    cloud: LocalCloudProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    run = uuid.uuid4().hex[:6]
    alarm = f"{cloud.state['stackName']}-{chaos.STOP_ALARMS[chaos.TOTAL_FAILURE]}"
    # Given process-task failing every invocation (FIS invocation-error, 100 %), started once
    # the dead-letter alarm is out of ALARM
    follower, experiment, plans, submit_seconds = run_under_load(cloud, chaos.TOTAL_FAILURE, run)
    transitions = ["OK"]
    # When N tasks are submitted: the first ones exhaust their retries and are dead-lettered,
    # and the dead-letter alarm (the experiment's stop condition) goes to ALARM
    fired = wait_for(
        lambda: (a := alarm_state(cloud, alarm)) and a["StateValue"] == "ALARM" and a,
        DRAIN_TIMEOUT_SECONDS,
        f"{alarm} to fire",
    )
    fired_at = fired["StateUpdatedTimestamp"].timestamp()
    transitions.append("ALARM")
    output = finish(follower)
    final = status_of(cloud, experiment["id"])
    stopped_after = final["endTime"].timestamp() - fired_at
    wait_until_quiet(cloud, timeout=DRAIN_TIMEOUT_SECONDS)
    result = accounting_of(cloud, plans, run)
    # Then the experiment stopped on the alarm within one poll of its stop conditions
    assert final["state"]["status"] == "stopped", final["state"]
    assert alarm in final["state"]["reason"]
    assert final["actions"]["Inject"]["state"]["status"] == "stopped"
    assert 0 <= stopped_after < STOP_POLL_SECONDS + 2, stopped_after
    assert "stopped" in output
    # And every task ended once; each one whose three attempts the fault failed was
    # dead-lettered and logged with FIS's error (preventExecution: no handler ran), and the
    # tasks still retrying when the fault was lifted succeeded (the Retry absorbed it)
    assert_accounted(result, f"{chaos.TOTAL_FAILURE}: N={N}")
    assert injected_failures(result) > 0
    attempts, hit, absorbed = injected_attempts(cloud, result)
    # And once no task is dead-lettered for a period the alarm returns to OK; the experiment
    # stays stopped
    wait_for(
        lambda: alarm_state(cloud, alarm)["StateValue"] == "OK",  # type: ignore[index]
        120 + 2 * 300 * ALARM_SCALE,
        f"{alarm} back to OK",
    )
    transitions.append("OK")
    assert status_of(cloud, experiment["id"])["state"]["status"] == "stopped"
    period = float(fired["Period"]) * ALARM_SCALE
    report(
        chaos.TOTAL_FAILURE,
        {
            **outcome_figures(result, injected_failures(result)),
            "attempts failed by FIS": str(attempts),
            "tasks hit by FIS / absorbed by retries after the stop": f"{hit} / {absorbed}",
            "alarm transitions": " -> ".join(transitions),
            "time to stop after ALARM": f"{stopped_after:.2f} s (alarm period {period:.0f} s)",
            "experiment": final["state"]["reason"],
            "submit seconds": f"{submit_seconds:.1f}",
        },
        capsys,
    )


def test_a_stopped_experiment_lifts_its_fault_at_once(cloud: LocalCloudProcess) -> None:
    # Given the total-failure experiment started again (its alarm out of ALARM), then stopped
    # with `ftb chaos stop`
    wait_for_stop_alarms_ok(cloud, chaos.TOTAL_FAILURE)
    since = time.time() - 1
    follower = ftb(cloud, "chaos", "run", chaos.TOTAL_FAILURE)
    running = wait_for(
        lambda: (
            (e := experiment_of(cloud, chaos.TOTAL_FAILURE, since))
            and e["state"]["status"] == "running"
            and e
        ),
        60,
        "the experiment to run",
    )
    stopper = ftb(cloud, "chaos", "stop")
    stop_output, _ = stopper.communicate(timeout=120)
    assert stopper.returncode == 0, stop_output
    finish(follower)
    assert status_of(cloud, running["id"])["state"]["status"] == "stopped"
    # When a task is submitted after the stop
    task_id = f"after-stop-{uuid.uuid4().hex[:6]}-1"
    assert cloud.submit(task_id).status == 202
    # Then it succeeds: no invocation fails once the experiment stopped
    cloud.wait_for_status(task_id, "SUCCEEDED", timeout=120)
