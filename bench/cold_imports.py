"""Each function's cold import next to `import boto3` alone, in fresh interpreters, in the
same run: what an API client waits for on a Lambda cold start before the handler runs.

The environment is the one Lambda gives each deployed function at init: the variables Lambda
defines for every function (LAMBDA_TASK_ROOT, _HANDLER, AWS_EXECUTION_ENV, the function's name
and memory, the X-Ray daemon address of active tracing...) and the POWERTOOLS_* variables the
stack sets, with tracing on; not the local runtime's (which turns the tracer off: there is no
X-Ray daemon locally). Some of them change what is done at import: without LAMBDA_TASK_ROOT the
X-Ray SDK's recorder builds its centralized-sampling connector (two botocore X-Ray clients),
which it never does on Lambda."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra import names

REPO_ROOT = Path(__file__).resolve().parents[1]
HANDLERS = REPO_ROOT / "handlers"
REGION = "us-east-1"
# Handler module -> its function (the module of "<module>.handler").
SPECS = {spec.handler.partition(".")[0]: spec for spec in names.ALL_FUNCTIONS}
FUNCTIONS = ("submit_task", "get_task", "start_execution", "process_task", "monitor_dlq")
BASELINE = "boto3"

# Wall time (what a client waits for) and the interpreter's CPU time (what the import costs,
# much less disturbed by other processes on a shared machine).
_TIMER = (
    "import time, json\n"
    "t, c = time.perf_counter(), time.process_time()\n"
    "import {module}\n"
    "print(json.dumps([time.perf_counter() - t, time.process_time() - c]))\n"
)


# Lambda's defined runtime environment variables ("Defined runtime environment variables",
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime)
# as a Python function with active tracing has them at init (_X_AMZN_TRACE_ID comes with each
# invocation, not at init). LAMBDA_TASK_ROOT is the code root, which is handlers/ here as
# /var/task is there; it is the variable the X-Ray SDK and Powertools read to know they run on
# Lambda (aws_xray_sdk.core.lambda_launcher.check_in_lambda, which also drops its touch file
# under /tmp/.aws-xray as it does on Lambda).
def lambda_environment(spec: names.FunctionSpec) -> dict[str, str]:
    """What a process of `spec`'s function sees at init on Lambda, credentials faked."""
    runtime = f"python{sys.version_info.major}.{sys.version_info.minor}"
    function_name = spec.function_name(names.DEFAULT_STACK_NAME)
    defined_by_lambda = {
        "_HANDLER": spec.handler,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group_name(names.DEFAULT_STACK_NAME),
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]00000000000000000000000000000000",
        "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench",
        "LAMBDA_TASK_ROOT": str(HANDLERS),
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        # Active tracing (the stack's Tracing.ACTIVE).
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
        "_AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129",
        "_AWS_XRAY_DAEMON_PORT": "2000",
    }
    # What infra/constructs/functions.py sets (the tracer is on: no POWERTOOLS_TRACE_DISABLED).
    # The resource names the handlers read (TASKS_TABLE_NAME...) are parsed on first use, not
    # at import, so they do not change the figure.
    set_by_the_stack = {
        "POWERTOOLS_SERVICE_NAME": spec.service,
        "POWERTOOLS_METRICS_NAMESPACE": names.METRICS_NAMESPACE,
        "POWERTOOLS_LOG_LEVEL": names.DEFAULT_LOG_LEVEL,
    }
    kept = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("POWERTOOLS_", "AWS_", "_AWS_", "LAMBDA_", "PYTHON", "_X_AMZN"))
    }
    # No bytecode written for handlers/: Lambda's /var/task is read-only.
    return {**kept, **defined_by_lambda, **set_by_the_stack, "PYTHONDONTWRITEBYTECODE": "1"}


def import_seconds(module: str, env: dict[str, str]) -> tuple[float, float]:
    """One fresh interpreter importing `module` (bytecode caches as a deployed package has):
    wall and CPU seconds."""
    output = subprocess.run(
        [sys.executable, "-c", _TIMER.format(module=module)],
        cwd=HANDLERS,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    wall, cpu = json.loads(output.strip().splitlines()[-1])
    return float(wall), float(cpu)


def measure(quick: bool = False, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    repeats = 3 if quick else 7
    # Each function in its own environment; `import boto3` alone in the first one's.
    envs = {module: lambda_environment(SPECS[module]) for module in FUNCTIONS}
    envs[BASELINE] = envs[FUNCTIONS[0]]
    modules = (BASELINE, *FUNCTIONS)
    for module in modules:  # warm the bytecode caches and the page cache once
        import_seconds(module, envs[module])
    times: dict[str, list[tuple[float, float]]] = {module: [] for module in modules}
    for round_ in range(repeats):
        if progress:
            progress(f"cold imports: round {round_ + 1} of {repeats}")
        for module in modules:  # interleaved, so machine load hits every module alike
            times[module].append(import_seconds(module, envs[module]))

    def median(module: str, index: int) -> float:
        return statistics.median(sample[index] for sample in times[module])

    baseline, baseline_cpu = median(BASELINE, 0), median(BASELINE, 1)
    figures: dict[str, Any] = {
        "repeats": repeats,
        "boto3_ms": round(baseline * 1000, 1),
        "boto3_cpu_ms": round(baseline_cpu * 1000, 1),
        "functions": {},
    }
    for module in FUNCTIONS:
        wall, cpu = median(module, 0), median(module, 1)
        figures["functions"][module] = {
            "import_ms": round(wall * 1000, 1),
            "ratio_to_boto3": round(wall / baseline, 2),
            "import_cpu_ms": round(cpu * 1000, 1),
            "cpu_ratio_to_boto3": round(cpu / baseline_cpu, 2),
        }
    return figures
