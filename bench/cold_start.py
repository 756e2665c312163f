"""Each function's cold start as Lambda counts it: Init Duration (the handler module's static
initialization) plus the Duration of the first invocation, in fresh interpreters.

Moving work from import to the first call (a client made lazily, a model built on first use)
cannot improve this figure: both halves are in it. The reference is a minimal function in the
same conditions: `import boto3` at init, then one SQS call (client and ListQueues).

Conditions, as on Lambda:
- the environment Lambda gives the function at init (bench.cold_imports.lambda_environment),
  the function's own variables as the stack sets them (read from the local cloud's Lambda API)
  and the invocation's trace header (_X_AMZN_TRACE_ID, sampled, as a cold start's first
  request is by the reservoir); the X-Ray daemon is a closed local UDP port;
- the code from a copy of handlers/ made with the asset's excludes (infra.names.ASSET_EXCLUDES:
  no __pycache__, no .pyc), and no bytecode written (/var/task is read-only), so the handler
  code compiles at every cold start as it does on Lambda; the libraries with their installed
  bytecode (assumed as Lambda's runtime (boto3) and the Powertools layer ship theirs: not
  checked against a deployed function);
- every AWS call answered by a local cloud (`ftb local`), standing in for the services.
"""

from __future__ import annotations

import fnmatch
import json
import shutil
import statistics
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.cloud import BenchCloud
from bench.cold_imports import FUNCTIONS, HANDLERS, SPECS, lambda_environment
from infra import names

EVENTS = Path(__file__).resolve().parents[1] / "tests" / "events"
# The first invocation of each function: the event its trigger sends (tests/events/).
EVENT_FILES = {
    "submit_task": "api_post_tasks.json",
    "get_task": "api_get_task.json",
    "start_execution": "sqs_task_queue_batch.json",
    "process_task": "process_task.json",
    "monitor_dlq": "sqs_dlq_workflow.json",
}
BASELINE = "boto3_first_call"

# Init: import the handler module and look the handler up (what the runtime does before it
# reports Init Duration). Duration: one invocation with a context as the runtime passes it.
_TIMER = """
import json, sys, time
t, c = time.perf_counter(), time.process_time()
{init}
init = [time.perf_counter() - t, time.process_time() - c]
class Context:
    function_name = {function_name!r}
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:" + function_name
    memory_limit_in_mb = {memory}
    aws_request_id = "{request_id}"
    log_group_name = "/aws/lambda/" + function_name
    log_stream_name = "2026/01/01/[$LATEST]0"
    def get_remaining_time_in_millis(self):
        return 60000
event = json.loads(sys.stdin.read())
t, c = time.perf_counter(), time.process_time()
try:
    handler(event, Context())
    outcome = "ok"
except Exception as error:  # a function error still ends the invocation (and is billed)
    outcome = type(error).__name__
invoke = [time.perf_counter() - t, time.process_time() - c]
print(json.dumps({{"init": init, "invoke": invoke, "outcome": outcome}}))
"""
_BASELINE_INIT = (
    "import boto3\ndef handler(event, context):\n    boto3.client('sqs').list_queues()\n"
)


def asset_copy(into: Path) -> Path:
    """handlers/ as the CDK asset packs it (infra.names.ASSET_EXCLUDES left out)."""
    patterns = [pattern.removeprefix("**/") for pattern in names.ASSET_EXCLUDES]

    def ignored(_: str, entries: list[str]) -> set[str]:
        return {e for e in entries if any(fnmatch.fnmatch(e, p) for p in patterns)}

    target = into / "asset"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(HANDLERS, target, ignore=ignored)
    return target


def unique_event(module: str, tag: str) -> str:
    """The test event with its task ids made unique per round (`tag`), so every first
    invocation does the work of a new task, not the duplicate path; get-task reads the task
    submit-task created in the same round."""
    text = (EVENTS / EVENT_FILES[module]).read_text(encoding="utf-8")
    return text.replace("task-0", f"task-{tag}-0")


def one_cold_start(
    module: str, env: dict[str, str], asset: Path, event: str, memory: int, function_name: str
) -> dict[str, Any]:
    init = f"import {module}\nhandler = {module}.handler" if module in SPECS else _BASELINE_INIT
    program = _TIMER.format(
        init=init,
        function_name=function_name,
        memory=memory,
        request_id=str(uuid.uuid4()),
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        cwd=asset,
        env=env,
        input=event,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module} cold start failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def function_environment(cloud: BenchCloud, module: str, asset: Path) -> dict[str, str]:
    spec = SPECS[module]
    name = spec.function_name(names.DEFAULT_STACK_NAME)
    configured = cloud.client("lambda").get_function_configuration(FunctionName=name)
    own = configured.get("Environment", {}).get("Variables", {})
    return invocation_environment({**lambda_environment(spec), **own}, cloud, asset)


def invocation_environment(env: dict[str, str], cloud: BenchCloud, asset: Path) -> dict[str, str]:
    trace = f"Root=1-00000000-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=1"
    return {
        **env,
        "LAMBDA_TASK_ROOT": str(asset),
        "AWS_ENDPOINT_URL": str(cloud.state["endpointUrl"]),
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
        "_AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1",
        "_X_AMZN_TRACE_ID": trace,
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def measure(
    work_dir: Path,
    start_cloud: Callable[..., BenchCloud],
    quick: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    repeats = 3 if quick else 7
    asset = asset_copy(work_dir / "cold-start")
    cloud = start_cloud("cold-start", set_env={"process-task:FAILURE_RATE": "0"})
    try:
        envs = {module: function_environment(cloud, module, asset) for module in FUNCTIONS}
        first = SPECS[FUNCTIONS[0]]
        envs[BASELINE] = invocation_environment(lambda_environment(first), cloud, asset)
        samples: dict[str, list[dict[str, Any]]] = {module: [] for module in envs}
        run = uuid.uuid4().hex[:8]
        for round_ in range(repeats):
            if progress:
                progress(f"cold starts: round {round_ + 1} of {repeats}")
            for module, env in envs.items():  # interleaved: machine load hits all alike
                spec = SPECS.get(module, first)
                event = unique_event(module, f"{run}{round_}") if module in SPECS else "{}"
                samples[module].append(
                    one_cold_start(
                        module,
                        env,
                        asset,
                        event,
                        spec.memory_mb,
                        spec.function_name(names.DEFAULT_STACK_NAME),
                    )
                )
    finally:
        cloud.stop()
    return summarize(samples, repeats)


def summarize(samples: dict[str, list[dict[str, Any]]], repeats: int) -> dict[str, Any]:
    def median_ms(module: str, part: str, index: int) -> float:
        return round(statistics.median(s[part][index] for s in samples[module]) * 1000, 1)

    def figures(module: str) -> dict[str, Any]:
        init, invoke = median_ms(module, "init", 0), median_ms(module, "invoke", 0)
        init_cpu, invoke_cpu = median_ms(module, "init", 1), median_ms(module, "invoke", 1)
        totals = [sum(s[p][0] for p in ("init", "invoke")) for s in samples[module]]
        return {
            "init_ms": init,
            "first_invocation_ms": invoke,
            "cold_start_ms": round(statistics.median(totals) * 1000, 1),
            "cold_start_cpu_ms": round(init_cpu + invoke_cpu, 1),
            "outcomes": sorted({s["outcome"] for s in samples[module]}),
        }

    baseline = figures(BASELINE)
    result: dict[str, Any] = {"repeats": repeats, BASELINE: baseline, "functions": {}}
    for module in samples:
        if module == BASELINE:
            continue
        mine = figures(module)
        mine["ratio_to_boto3_first_call"] = round(
            mine["cold_start_ms"] / baseline["cold_start_ms"], 2
        )
        # CPU beside wall: on a shared machine the wall ratios say little.
        mine["cpu_ratio_to_boto3_first_call"] = round(
            mine["cold_start_cpu_ms"] / baseline["cold_start_cpu_ms"], 2
        )
        result["functions"][module] = mine
    return result
