"""Hot-reload latency: from saving a handler to the first invocation that runs the new code.

`ftb local` runs a copy of the app (the repository is never edited). Each round rewrites
process-task's return statement with a new marker, notes the time of the save, then invokes
process-task through the local Lambda API every POLL_SECONDS until an answer carries the
marker. The latency is that answer's start time minus the save time (so it is at most one
poll interval late). `python -m bench.hot_reload` prints the figures as JSON.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.support.app_copy import copy_app
from tests.support.local_cloud import LocalCloudProcess

ROUNDS = 5
POLL_SECONDS = 0.05
GIVE_UP_SECONDS = 60.0
# Between rounds: the previous reload finishes swapping the other functions (a developer does
# not save every second).
PAUSE_SECONDS = 5.0
RETURN_LINE = "    return result.model_dump(by_alias=True)\n"


def _attempt(task_id: str) -> bytes:
    return json.dumps(
        {
            "taskId": task_id,
            "payload": {"n": 1},
            "attempt": 0,
            "executionArn": f"arn:aws:states:us-east-1:123456789012:execution:bench:{task_id}",
        }
    ).encode()


def _round(cloud: LocalCloudProcess, handler: Path, original: str, marker: int) -> float:
    function = cloud.function_name("process-task")
    client = cloud.client("lambda")
    edited = original.replace(
        RETURN_LINE, f'    return {{**result.model_dump(by_alias=True), "marker": {marker}}}\n'
    )
    saved = time.monotonic()
    handler.write_text(edited, encoding="utf-8")
    last: Any = None
    while time.monotonic() - saved < GIVE_UP_SECONDS:
        sent = time.monotonic()
        answer = client.invoke(FunctionName=function, Payload=_attempt(f"bench-{marker}-x"))
        body = json.loads(answer["Payload"].read())
        last = body
        if isinstance(body, dict) and body.get("marker") == marker:
            return sent - saved
        time.sleep(POLL_SECONDS)
    reloads = [
        line
        for line in cloud.log_file.read_text(errors="replace").splitlines()
        if line.startswith("hot reload:")
    ]
    raise RuntimeError(
        f"the edit (marker {marker}) was not live after {GIVE_UP_SECONDS} s (last answer "
        f"{last}); the cloud said:\n" + "\n".join(reloads[-5:])
    )


def measure(rounds: int = ROUNDS) -> dict[str, Any]:
    """Start a local cloud on a copy of the app, edit process-task `rounds` times."""
    with tempfile.TemporaryDirectory(prefix="ftb-bench-hot-reload-") as scratch:
        app = copy_app(Path(scratch) / "app")
        cloud = LocalCloudProcess(
            "bench-hot-reload",
            ["--quiet", "--set-env", "process-task:FAILURE_RATE=0"],
            Path(scratch),
            cwd=app,
        )
        cloud.start()
        try:
            cloud.wait_ready()
            handler = app / "handlers" / "process_task.py"
            original = handler.read_text(encoding="utf-8")
            if RETURN_LINE not in original:
                raise RuntimeError(f"{handler} changed: the benchmark's edit no longer applies")
            client = cloud.client("lambda")
            client.invoke(  # warm: the first round measures a reload, not a cold start
                FunctionName=cloud.function_name("process-task"), Payload=_attempt("bench-warm")
            )
            latencies = []
            for marker in range(1, rounds + 1):
                latencies.append(_round(cloud, handler, original, marker))
                time.sleep(PAUSE_SECONDS)
        finally:
            cloud.stop()
    return {
        "benchmark": "hot_reload",
        "what": "seconds from saving handlers/process_task.py to the first invocation "
        "running the new code (ftb local, code-only swap)",
        "rounds": rounds,
        "median_seconds": round(statistics.median(latencies), 3),
        "max_seconds": round(max(latencies), 3),
        "min_seconds": round(min(latencies), 3),
        "latencies_seconds": [round(value, 3) for value in latencies],
        "budget_seconds": 5.0,
        "load_average_1m": round(os.getloadavg()[0], 1),  # this machine is shared
    }


def main() -> int:
    result = measure()
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
