"""Helpers of the reliability suites: a local cloud with faults on, a workload of tasks sent
concurrently like real clients send them, a bounded wait for the system to go quiet, and the
accounting that proves (or disproves) zero loss and zero duplicates from what the local AWS
endpoint holds: executions, their inputs, the monitor's log records and the queues.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from task_domain.models import payload_digest
from tests.support.api_auth import authorize
from tests.support.local_cloud import LocalCloudProcess

TERMINAL = ("SUCCEEDED", "FAILED")
# A client retries a 5xx (a crashed submit-task worker is API Gateway's 502) with backoff.
CLIENT_ATTEMPTS = 8
CLIENT_BACKOFF_CAP_SECONDS = 4.0


# -- the local cloud ----------------------------------------------------------------------------


def fault_args(faults: Iterable[str], env: Iterable[str] = ()) -> list[str]:
    """`ftb local` arguments: --fault for each fault, --set-env for each override."""
    args: list[str] = ["--quiet"]
    for fault in faults:
        args += ["--fault", fault]
    for override in env:
        args += ["--set-env", override]
    return args


@contextmanager
def local_cloud(name: str, args: list[str], work_dir: Path) -> Iterator[LocalCloudProcess]:
    cloud = LocalCloudProcess(name, args, work_dir)
    cloud.start()
    try:
        yield cloud.wait_ready()
    finally:
        cloud.stop(timeout=60)


def fault_counters(cloud: LocalCloudProcess) -> dict[str, Any]:
    with urllib.request.urlopen(f"{cloud.endpoint_url}/_ftb/faults", timeout=30) as response:
        document: dict[str, Any] = json.loads(response.read())
    return document


def reset_fault_counters(cloud: LocalCloudProcess) -> None:
    request = urllib.request.Request(
        f"{cloud.endpoint_url}/_ftb/faults/reset", data=b"", method="POST"
    )
    with urllib.request.urlopen(request, timeout=30):
        pass


# -- the workload -------------------------------------------------------------------------------


@dataclass
class Request:
    task_id: str
    payload: dict[str, Any]
    status: int | None = None  # the final answer after the client's retries
    attempts: int = 0
    server_errors: int = 0  # 5xx answers the client retried

    @property
    def digest(self) -> str:
        return payload_digest(self.payload)


@dataclass
class TaskPlan:
    """One taskId and the requests sent for it at the same time."""

    task_id: str
    kind: str  # normal | permanent (id ends in 3) | duplicate | conflict
    payload: dict[str, Any]
    requests: list[Request] = field(default_factory=list)

    @property
    def accepted_digests(self) -> set[str]:
        return {r.digest for r in self.requests if r.status in (200, 202)}

    @property
    def accepted(self) -> bool:
        return bool(self.accepted_digests)


# Per 10 tasks: 6 normal, 1 with an id ending in 3, 2 duplicated, 1 conflicting reuse.
KIND_CYCLE = (
    "normal",
    "duplicate",
    "normal",
    "permanent",
    "normal",
    "conflict",
    "normal",
    "duplicate",
    "normal",
    "normal",
)
DUPLICATE_COPIES = 3


def plan_workload(count: int, run: str, seed: int = 5) -> list[TaskPlan]:
    rng = random.Random(seed)
    plans = []
    for index in range(count):
        kind = KIND_CYCLE[index % len(KIND_CYCLE)]
        last = "3" if kind == "permanent" else rng.choice("012456789")
        task_id = f"rel-{run}-{index:05d}-{last}"
        payload = {"n": index, "kind": kind, "note": rng.choice(["a", "ü", "✓", " x "])}
        plan = TaskPlan(task_id, kind, payload)
        if kind == "duplicate":
            plan.requests = [Request(task_id, dict(payload)) for _ in range(DUPLICATE_COPIES)]
        elif kind == "conflict":
            other = {"n": index, "kind": kind, "conflicting": True}
            plan.requests = [
                Request(task_id, dict(payload)),
                Request(task_id, other),
                Request(task_id, dict(payload)),
            ]
        else:
            plan.requests = [Request(task_id, payload)]
        plans.append(plan)
    return plans


def _post(url: str, request: Request) -> None:
    body = json.dumps({"taskId": request.task_id, "payload": request.payload}).encode("utf-8")
    for attempt in range(CLIENT_ATTEMPTS):
        request.attempts = attempt + 1
        headers = authorize("POST", url, {"Content-Type": "application/json"}, body)
        http = urllib.request.Request(url, data=body, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(http, timeout=60) as response:
                request.status = response.status
        except urllib.error.HTTPError as error:
            request.status = error.code
        except (urllib.error.URLError, OSError):
            request.status = None
        if request.status is not None and request.status < 500:
            return
        request.server_errors += 1
        time.sleep(min(CLIENT_BACKOFF_CAP_SECONDS, 0.25 * 2**attempt) * random.random())


def _send_together(url: str, plan: TaskPlan) -> None:
    """The plan's requests from as many threads, released at the same instant."""
    if len(plan.requests) == 1:
        _post(url, plan.requests[0])
        return
    barrier = threading.Barrier(len(plan.requests))

    def send(request: Request) -> None:
        barrier.wait(timeout=60)
        _post(url, request)

    threads = [threading.Thread(target=send, args=(r,)) for r in plan.requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def submit_all(url: str, plans: list[TaskPlan], clients: int = 12) -> float:
    """Send every plan's requests (`clients` plans at a time); the seconds it took."""
    started = time.monotonic()
    order = list(plans)
    random.Random(11).shuffle(order)
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(lambda plan: _send_together(url, plan), order))
    return time.monotonic() - started


# -- waiting for quiet --------------------------------------------------------------------------


def queue_depth(cloud: LocalCloudProcess, url: str) -> int:
    visible, in_flight = cloud.queue_counts(url)
    return visible + in_flight


def running_executions(cloud: LocalCloudProcess) -> int:
    pages = cloud.client("stepfunctions").get_paginator("list_executions")
    machine = cloud.outputs["StateMachineArn"]
    return sum(
        len(page["executions"])
        for page in pages.paginate(stateMachineArn=machine, statusFilter="RUNNING")
    )


def wait_until_quiet(
    cloud: LocalCloudProcess,
    timeout: float,
    interval: float = 2.0,
    on_poll: Any = None,
) -> float:
    """Until both queues are empty and no execution runs, twice in a row; the seconds waited.
    Raises AssertionError (with what was still busy) after `timeout`."""
    started = time.monotonic()
    queues = [cloud.outputs["TaskQueueUrl"], cloud.outputs["DeadLetterQueueUrl"]]
    quiet_polls = 0
    while True:
        depths = [queue_depth(cloud, url) for url in queues]
        running = running_executions(cloud)
        if on_poll is not None:
            on_poll(depths, running)
        quiet_polls = quiet_polls + 1 if not any(depths) and not running else 0
        if quiet_polls >= 2:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(
                f"not quiet after {timeout:.0f} s: task queue {depths[0]}, dead-letter queue "
                f"{depths[1]} messages, {running} executions running\n{cloud.log_tail(30)}"
            )
        time.sleep(interval)


# -- the accounting -----------------------------------------------------------------------------


@dataclass
class Execution:
    name: str
    arn: str
    status: str
    digest: str | None = None  # of the execution input's payload


def executions(cloud: LocalCloudProcess, describe: bool = True) -> list[Execution]:
    sfn = cloud.client("stepfunctions")
    machine = cloud.outputs["StateMachineArn"]
    found = []
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine):
        found += [Execution(e["name"], e["executionArn"], e["status"]) for e in page["executions"]]
    if describe:

        def digest_of(execution: Execution) -> None:
            document = json.loads(sfn.describe_execution(executionArn=execution.arn)["input"])
            execution.digest = payload_digest(document["payload"])

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(digest_of, found))
    return found


def monitor_records(cloud: LocalCloudProcess) -> list[dict[str, Any]]:
    """The monitor's "Task dead-lettered" records (one per delivery: at least once)."""
    group = f"/aws/lambda/{cloud.function_name('monitor-dlq')}"
    return [
        record for record in cloud.json_logs(group) if record.get("message") == "Task dead-lettered"
    ]


@dataclass
class Check:
    name: str
    expected: str
    observed: str
    ok: bool


@dataclass
class Accounting:
    plans: list[TaskPlan]
    executions: list[Execution]
    monitor: list[dict[str, Any]]
    queues: dict[str, int]
    faults: dict[str, Any]
    timings: dict[str, float]
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def failures(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]


def account(
    plans: list[TaskPlan],
    found: list[Execution],
    monitor: list[dict[str, Any]],
    queues: dict[str, int],
    faults: dict[str, Any],
    timings: dict[str, float],
) -> Accounting:
    """Every promise of the system, checked against what the cloud holds."""
    result = Accounting(plans, found, monitor, queues, faults, timings)
    check = result.checks.append
    accepted = {plan.task_id: plan for plan in plans if plan.accepted}
    by_name: dict[str, list[Execution]] = {}
    for execution in found:
        by_name.setdefault(execution.name, []).append(execution)
    requests = [r for plan in plans for r in plan.requests]
    unanswered = [r for r in requests if r.status is None or r.status >= 500]

    check(
        Check(
            "requests answered (client retries 5xx)",
            f"{len(requests)}",
            f"{len(requests) - len(unanswered)} ({sum(r.server_errors for r in requests)} "
            "5xx retried)",
            not unanswered,
        )
    )
    check(
        Check(
            "taskIds accepted (202/200)",
            f"{len(plans)}",
            f"{len(accepted)}",
            len(accepted) == len(plans),
        )
    )
    duplicates = [p for p in plans if p.kind == "duplicate"]
    check(
        Check(
            "duplicates sent concurrently: every copy 2xx",
            f"{len(duplicates)} x {DUPLICATE_COPIES}",
            f"{sum(all(r.status in (200, 202) for r in p.requests) for p in duplicates)} all 2xx",
            all(all(r.status in (200, 202) for r in p.requests) for p in duplicates),
        )
    )
    conflicts = [p for p in plans if p.kind == "conflict"]
    # Exactly one payload wins per conflicting taskId; every request with another gets 409.
    conflict_ok = [
        len(p.accepted_digests) == 1
        and all(
            (r.status in (200, 202)) if r.digest in p.accepted_digests else r.status == 409
            for r in p.requests
        )
        for p in conflicts
    ]
    check(
        Check(
            "conflicting reuses: one payload wins, the other 409",
            f"{len(conflicts)}",
            f"{sum(conflict_ok)}",
            all(conflict_ok),
        )
    )
    exactly_one = [tid for tid in accepted if len(by_name.get(tid, [])) == 1]
    missing = sorted(tid for tid in accepted if tid not in by_name)
    doubled = sorted(tid for tid in accepted if len(by_name.get(tid, [])) > 1)
    check(
        Check(
            "accepted taskIds with exactly one execution",
            f"{len(accepted)}",
            f"{len(exactly_one)} (lost {len(missing)}, duplicated {len(doubled)})"
            + (f" e.g. {(missing + doubled)[:3]}" if missing or doubled else ""),
            len(exactly_one) == len(accepted),
        )
    )
    strangers = sorted(name for name in by_name if name not in accepted)
    check(
        Check(
            "executions of taskIds never accepted",
            "0",
            f"{len(strangers)}" + (f" e.g. {strangers[:3]}" if strangers else ""),
            not strangers,
        )
    )
    statuses = Counter(e.status for e in found if e.name in accepted)
    unfinished = sum(n for status, n in statuses.items() if status not in TERMINAL)
    check(
        Check(
            "executions ended SUCCEEDED or FAILED",
            f"{len(found)}",
            f"SUCCEEDED {statuses['SUCCEEDED']}, FAILED {statuses['FAILED']}, other {unfinished}",
            unfinished == 0,
        )
    )
    permanent = [tid for tid in accepted if tid.endswith("3")]
    permanent_failed = [
        tid for tid in permanent if all(e.status == "FAILED" for e in by_name.get(tid, []))
    ]
    check(
        Check(
            "ids ending in 3 FAILED (permanent error)",
            f"{len(permanent)}",
            f"{len(permanent_failed)}",
            len(permanent_failed) == len(permanent),
        )
    )
    wrong_payload = sorted(
        e.name
        for e in found
        if e.name in accepted
        and e.digest is not None
        and e.digest not in accepted[e.name].accepted_digests
    )
    check(
        Check(
            "executions whose input is not the accepted payload",
            "0",
            f"{len(wrong_payload)}" + (f" e.g. {wrong_payload[:3]}" if wrong_payload else ""),
            not wrong_payload and all(e.digest is not None for e in found),
        )
    )
    failed = {e.name for e in found if e.status == "FAILED"}
    logged = Counter(str(r.get("taskId")) for r in monitor if r.get("source") == "workflow")
    unlogged = sorted(failed - set(logged))
    check(
        Check(
            "FAILED tasks logged by the monitor (distinct taskIds)",
            f"{len(failed)}",
            f"{len(failed & set(logged))} ({sum(logged.values())} records: at least once)",
            not unlogged,
        )
    )
    intake = [r for r in monitor if r.get("source") == "intake"]
    check(
        Check(
            "intake dead letters (throttling or crashes exhausted receives)",
            "0",
            f"{len(intake)}",
            not intake,
        )
    )
    for queue, depth in queues.items():
        check(Check(f"messages left in {queue} (visible + in flight)", "0", f"{depth}", depth == 0))
    return result


def collect(
    cloud: LocalCloudProcess, plans: list[TaskPlan], timings: dict[str, float]
) -> Accounting:
    """Read the cloud's state and account for every task. The monitor's records are waited
    for (log shipping is asynchronous) until each FAILED execution has one, or 60 s."""
    found = executions(cloud)
    failed = {e.name for e in found if e.status == "FAILED"}
    deadline = time.monotonic() + 60
    while True:
        monitor = monitor_records(cloud)
        logged = {str(r.get("taskId")) for r in monitor}
        if failed <= logged or time.monotonic() > deadline:
            break
        time.sleep(2)
    queues = {
        "task queue": queue_depth(cloud, cloud.outputs["TaskQueueUrl"]),
        "dead-letter queue": queue_depth(cloud, cloud.outputs["DeadLetterQueueUrl"]),
    }
    return account(plans, found, monitor, queues, fault_counters(cloud), timings)


# -- the table ----------------------------------------------------------------------------------


def fault_rows(faults: dict[str, Any]) -> list[tuple[str, str]]:
    counters = faults.get("counters", {})
    rows = []
    for function, points in sorted(faults.get("workerCrashes", {}).items()):
        for point, count in sorted(points.items()):
            rows.append((f"worker ended: {short(function)} at {point}", str(count)))
    rows.append(
        (
            "StartExecution throttles absorbed (bucket / random)",
            f"{counters.get('startExecution.throttled.bucket', 0)} / "
            f"{counters.get('startExecution.throttled.random', 0)} "
            f"of {counters.get('startExecution.calls', 0)} calls",
        )
    )
    for key, count in sorted(counters.items()):
        if key.startswith("functionError."):
            _, function, when = key.split(".", 2)
            rows.append((f"function errors injected: {short(function)} ({when})", str(count)))
    for queue, seconds in sorted(faults.get("sqsDelaySeconds", {}).items()):
        batches = counters.get(f"sqsDelay.{queue}.batches", 0)
        rows.append((f"deliveries delayed: {short(queue)}", f"{batches} batches, {seconds:.0f} s"))
    return rows


def short(name: str) -> str:
    return name.split("-", 1)[1] if name.startswith("FaultTolerantBackend-") else name


def render(title: str, result: Accounting) -> str:
    """The accounting as a plain-text table (readable in any terminal or CI log)."""
    out = [
        _table(
            title,
            ("check", "expected", "observed", ""),
            [(c.name, c.expected, c.observed, "ok" if c.ok else "FAIL") for c in result.checks],
        )
    ]
    fault_table = fault_rows(result.faults)
    if fault_table:
        width = max(len(name) for name, _ in fault_table)
        out.append("faults injected:")
        out += [f"  {name.ljust(width)}  {value}" for name, value in fault_table]
    if result.timings:
        out.append(
            "timings: "
            + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in result.timings.items())
        )
    return "\n".join(out)


def size_from_env(variable: str, default: int) -> int:
    value = os.environ.get(variable, "").strip()
    return int(value) if value else default


def starter_receive_counts(cloud: LocalCloudProcess) -> dict[str, int]:
    """taskId -> receives it took to start, for every task the starter had to back off
    (its "Could not start" records carry the receive count; one more receive started it)."""
    group = f"/aws/lambda/{cloud.function_name('start-execution')}"
    counts: dict[str, int] = {}
    for record in cloud.json_logs(group):
        task_id, count = record.get("taskId"), record.get("receiveCount")
        if isinstance(task_id, str) and isinstance(count, int):
            counts[task_id] = max(counts.get(task_id, 0), count + 1)
    return counts


def render_columns(title: str, columns: list[str], rows: list[tuple[str, list[str]]]) -> str:
    """A plain-text table with one column per scenario."""
    return _table(title, ("", *columns), [(label, *values) for label, values in rows])


def _table(title: str, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    table = [header, *rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    rule = "+".join("-" * (w + 2) for w in widths)
    out = [title, rule]
    for index, line in enumerate(table):
        cells = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        out.append(" | ".join(cells).rstrip())
        if index == 0:
            out.append(rule)
    out.append(rule)
    return "\n".join(out)
