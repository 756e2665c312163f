"""The local Logs Insights engine over many events: how long a query takes.

`measure(events)` loads that many Powertools-style JSON lines (and Lambda's START/END/REPORT
lines) for a few hundred tasks into an in-process moto logs backend, then times queries
through the engine as the endpoint runs them (parse, read moto's events, execute). Target
(issue 9): under 2 s for 100,000 events. Run: `python -m bench.logs_insights [EVENTS]`.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from typing import Any

from ftb.localcloud.logs_insights import execute, parse_query
from ftb.localcloud.logs_insights.moto_logs import LogsStore

ACCOUNT = "123456789012"
REGION = "us-east-1"
GROUPS = [f"/aws/lambda/bench-{name}" for name in ("submit", "start", "process", "monitor")]
PROBE_TASK = "task-00042"

QUERIES = {
    # The original README's query, for one task.
    "readme_query": (
        "fields @timestamp, @message, @logStream, @log | sort @timestamp desc"
        f" | filter @message like /{PROBE_TASK}/ | limit 10000"
    ),
    # Filter on discovered JSON fields, then aggregate (every JSON line is parsed).
    "filter_stats": (
        'filter level = "WARNING" or level = "ERROR" | stats count(*) as failures, '
        "avg(attempt) as meanAttempt, pct(attempt, 95) by service, bin(5m)"
    ),
    "stats_by_log": "stats count(*) by @log",
}


def _line(task: str, attempt: int, moment: int, request_id: str, group: str) -> str:
    level = "WARNING" if attempt > 1 else "INFO"
    return json.dumps(
        {
            "level": level,
            "location": "process_task.handler:57",
            "message": "Task attempt failed, will retry" if level == "WARNING" else "Task step",
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(moment / 1000))
            + f",{moment % 1000:03d}+0000",
            "service": group.rsplit("-", 1)[-1],
            "cold_start": attempt == 1,
            "function_name": group.rsplit("/", 1)[-1],
            "function_memory_size": "256",
            "function_arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{group}",
            "function_request_id": request_id,
            "xray_trace_id": "1-5759e988-bd862e3fe1be46a994272793",
            "taskId": task,
            "attempt": attempt,
        }
    )


def load(events: int) -> None:
    """Put `events` events into moto's logs backend (in process), spread over four groups."""
    from moto.logs.models import logs_backends

    backend = logs_backends[ACCOUNT][REGION]
    for group in GROUPS:
        if group not in backend.groups:
            backend.create_log_group(group, {})
    now = int(time.time() * 1000)
    start = now - 3_600_000
    per_group = events // len(GROUPS)
    for number, group in enumerate(GROUPS):
        stream = f"2026/01/01/[$LATEST]{uuid.uuid4().hex}"
        backend.create_log_stream(group, stream)
        count = per_group + (events % len(GROUPS) if number == 0 else 0)
        batch: list[dict[str, Any]] = []
        for index in range(count):
            moment = start + (index * 3_600_000) // max(count, 1)
            task = f"task-{(index // 5) % 1000:05d}"
            request_id = str(uuid.UUID(int=index))
            kind = index % 5
            if kind == 0:
                message = f"START RequestId: {request_id} Version: $LATEST"
            elif kind == 4:
                message = (
                    f"REPORT RequestId: {request_id}\tDuration: 12.5 ms\tBilled Duration: 13 ms"
                    "\tMemory Size: 256 MB\tMax Memory Used: 80 MB"
                )
            else:
                message = _line(task, kind, moment, request_id, group)
            batch.append({"timestamp": moment, "message": message})
            if len(batch) == 10_000:
                backend.put_log_events(group, stream, batch)
                batch = []
        if batch:
            backend.put_log_events(group, stream, batch)


def run_query(text: str, start_ms: int, end_ms: int) -> int:
    store = LogsStore(ACCOUNT, REGION)
    result = execute(parse_query(text), store.events(GROUPS, start_ms, end_ms))
    return len(result.rows)


def measure(events: int = 100_000) -> dict[str, float]:
    """Seconds per query over `events` events (plus the load time, not part of the target)."""
    from moto import mock_aws

    with mock_aws():
        began = time.perf_counter()
        load(events)
        figures = {"load_seconds": time.perf_counter() - began}
        end_ms = int(time.time() * 1000) + 1000
        start_ms = end_ms - 2 * 3_600_000
        for name, text in QUERIES.items():
            began, cpu = time.perf_counter(), time.process_time()
            rows = run_query(text, start_ms, end_ms)
            figures[f"{name}_seconds"] = time.perf_counter() - began
            # CPU time too: on a shared machine wall time says more about the neighbours.
            figures[f"{name}_cpu_seconds"] = time.process_time() - cpu
            figures[f"{name}_rows"] = float(rows)
    figures["events"] = float(events)
    return figures


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    for key, value in measure(count).items():
        print(f"{key:28} {value:,.3f}")
