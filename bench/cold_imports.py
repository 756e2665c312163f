"""Each function's cold import next to `import boto3` alone, in fresh interpreters, in the
same run: what an API client waits for on a Lambda cold start before the handler runs.

The environment is the deployed one (tracing on, as the stack configures it), not the local
runtime's (which turns the tracer off: there is no X-Ray daemon locally)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
HANDLERS = REPO_ROOT / "handlers"
FUNCTIONS = ("submit_task", "get_task", "start_execution", "process_task", "monitor_dlq")
BASELINE = "boto3"

_TIMER = (
    "import time, json\n"
    "t = time.perf_counter()\n"
    "import {module}\n"
    "print(json.dumps(time.perf_counter() - t))\n"
)


def _environment() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("POWERTOOLS_", "AWS_", "PYTHON"))
    }
    env.update(
        {
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_LAMBDA_FUNCTION_NAME": "bench",
            "POWERTOOLS_SERVICE_NAME": "task-backend",
            "POWERTOOLS_METRICS_NAMESPACE": "FaultTolerantBackend",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def import_seconds(module: str, env: dict[str, str]) -> float:
    """One fresh interpreter importing `module` (bytecode caches as a deployed package has)."""
    output = subprocess.run(
        [sys.executable, "-c", _TIMER.format(module=module)],
        cwd=HANDLERS,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(json.loads(output.strip().splitlines()[-1]))


def measure(quick: bool = False, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    repeats = 3 if quick else 7
    env = _environment()
    modules = (BASELINE, *FUNCTIONS)
    for module in modules:  # warm the bytecode caches and the page cache once
        import_seconds(module, env)
    times: dict[str, list[float]] = {module: [] for module in modules}
    for round_ in range(repeats):
        if progress:
            progress(f"cold imports: round {round_ + 1} of {repeats}")
        for module in modules:  # interleaved, so machine load hits every module alike
            times[module].append(import_seconds(module, env))
    baseline = statistics.median(times[BASELINE])
    figures: dict[str, Any] = {
        "repeats": repeats,
        "boto3_ms": round(baseline * 1000, 1),
        "functions": {},
    }
    for module in FUNCTIONS:
        median = statistics.median(times[module])
        figures["functions"][module] = {
            "import_ms": round(median * 1000, 1),
            "ratio_to_boto3": round(median / baseline, 2),
        }
    return figures
