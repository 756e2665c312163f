"""The local Lambda runtime: each function's handler in worker processes of its own.

What it emulates, and how (see docs/decisions.md):
- an execution environment = one `worker.py` process with exactly the function's
  template environment plus the variables Lambda itself sets, `LAMBDA_TASK_ROOT` first on
  `sys.path`; warm between invocations (idle workers are reused, newest first);
- concurrency: reserved concurrency when the function has one (beyond it a synchronous
  invocation is throttled with TooManyRequestsException, as on Lambda), else
  `max_concurrency_default` workers (a limit of this machine, not of AWS: callers wait);
- the timeout, enforced by killing the worker, reported as Lambda reports it
  (`Sandbox.Timedout`, "Task timed out after 3.00 seconds");
- a worker that dies (os._exit, a signal) is reported as `Runtime.ExitError` and replaced;
- logs: START/END/REPORT and the function's stdout/stderr, to log group /aws/lambda/<name>
  (a stream per worker) in the local endpoint's CloudWatch Logs, and to the terminal.
Not emulated: versions and aliases (only $LATEST), the async invocation retries and
destinations, memory limits (reported, not enforced).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from ftb.localcloud.lambda_runtime.errors import (
    InvalidParameterValueError,
    InvalidRequestContentError,
    LambdaServiceError,
    RequestTooLargeError,
    ResourceNotFoundError,
    RuntimeStoppedError,
    TooManyRequestsError,
)
from ftb.localcloud.lambda_runtime.forking import DEFAULT_PRELOAD, Zygote
from ftb.localcloud.lambda_runtime.log_shipping import LogShipper
from ftb.localcloud.lambda_runtime.model import (
    DEFAULT_ACCOUNT_ID,
    LATEST,
    FunctionSpec,
    InvokeFaults,
    InvokeResult,
    function_error,
)
from ftb.localcloud.lambda_runtime.pool import (
    PoolReplacedError,
    Worker,
    WorkerPool,
    exit_description,
)

# Lambda's limits for a synchronous request and response payload.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
# Lambda gives a function's initialisation (imports) 10 s of its own, outside its timeout.
INIT_TIMEOUT_SECONDS = 10.0
# How long a caller waits for a free worker when the function has no reserved concurrency.
DEFAULT_QUEUE_WAIT_SECONDS = 900.0
# How long an asynchronous event waits for a free worker (Lambda keeps events up to 6 hours).
EVENT_QUEUE_WAIT_SECONDS = 6 * 3600.0
# Idle workers are ended after this long, as Lambda reclaims idle execution environments.
IDLE_TIMEOUT_SECONDS = 600.0
# Prefixes the lines of a trial initialisation (a hot reload's check that new code imports):
# the terminal logs them and counts no invocation, no crash.
TRIAL_MARK = "(trial start of new code, not an invocation)"
_PYTHON_VERSION = f"{sys.version_info[0]}.{sys.version_info[1]}"

Echo = Callable[[str, str], None]


class InvocationMetrics(Protocol):
    """What the runtime tells the local CloudWatch (ftb/localcloud/cloudwatch/collectors.py)."""

    def invoked(self, function: str, duration_ms: float, error: bool) -> None: ...
    def throttled(self, function: str) -> None: ...
    def log_line(self, function: str, line: str) -> None: ...


def default_echo(function_name: str, line: str) -> None:
    with _ECHO_LOCK:
        for part in line.split("\r"):
            print(f"[{function_name}] {part}", flush=True)


_ECHO_LOCK = threading.Lock()


def log_stream_name() -> str:
    """A stream name like Lambda's: 2024/01/31/[$LATEST]<32 hex digits>."""
    return f"{datetime.now(UTC):%Y/%m/%d}/[{LATEST}]{uuid.uuid4().hex}"


def _utc_stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class _Stats:
    cold_starts: int = 0
    invocations: int = 0
    by_function: dict[str, int] = field(default_factory=dict)


class LambdaRuntime:
    """Runs registered functions; `AwsEndpoint` serves their Invoke API."""

    def __init__(
        self,
        endpoint_url: str,
        region: str = "us-east-1",
        *,
        max_concurrency_default: int = 4,
        echo: Echo | None = None,
        faults: InvokeFaults | None = None,
        ship_logs: bool = True,
        idle_timeout_seconds: float = IDLE_TIMEOUT_SECONDS,
        preload: tuple[str, ...] | None = DEFAULT_PRELOAD,
    ) -> None:
        self._endpoint_url = endpoint_url
        self.region = region
        self.max_concurrency_default = max_concurrency_default
        self.echo: Echo = echo or default_echo
        self.faults = faults
        self._functions: dict[str, FunctionSpec] = {}
        # When each function was last (re)registered: Lambda's LastModified.
        self._modified: dict[str, datetime] = {}
        self._pools: dict[str, WorkerPool] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._background: set[threading.Thread] = set()
        self.stats = _Stats()
        # The local CloudWatch's collector (ftb/localcloud/cloudwatch/collectors.py): Lambda's
        # own metrics of each invocation and the EMF lines of the functions' output.
        self.metrics: InvocationMetrics | None = None
        # Set by the endpoint serving this runtime when it runs in this process: its clients
        # (the log shipper's) are then answered without HTTP (endpoint/in_process.py).
        self.own_client: Callable[[Any], Any] = lambda client: client
        self._logs = (
            LogShipper(lambda: self._endpoint_url, region, lambda c: self.own_client(c))
            if ship_logs
            else None
        )
        self._idle_timeout = idle_timeout_seconds
        # Log streams of workers initialised by `prepare` (a hot reload's trial): not an
        # invocation, so their lines go to the echo marked as such, not to the log group.
        self._trial_streams: set[str] = set()
        # Workers are forked from a zygote that imported `preload` (None: every worker is a
        # fresh interpreter): one per code directory (LAMBDA_TASK_ROOT is one of the variables
        # the libraries read at import), started with its first worker.
        self._zygotes: dict[str, Zygote] = {}
        self._preload = preload
        self._stopping = threading.Event()
        threading.Thread(target=self._reap_idle, name="lambda-idle-reaper", daemon=True).start()

    # -- configuration ------------------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        return self._endpoint_url

    @endpoint_url.setter
    def endpoint_url(self, url: str) -> None:
        """Where functions (and the log shipper) send their AWS calls; new workers only."""
        self._endpoint_url = url

    def register(self, spec: FunctionSpec) -> None:
        """Add a function, or replace it (its running workers finish; idle ones are ended)."""
        limit = (
            spec.reserved_concurrency
            if spec.reserved_concurrency is not None
            else self.max_concurrency_default
        )
        self._install(spec, WorkerPool(spec, limit))

    def _install(self, spec: FunctionSpec, pool: WorkerPool | None) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeStoppedError("The local Lambda runtime is shut down.")
            previous = self._pools.pop(spec.name, None)
            self._functions.pop(spec.name, None)
            if pool is not None:
                self._functions[spec.name] = spec
                self._modified[spec.name] = datetime.now(UTC)
                self._pools[spec.name] = pool
        if previous is not None:
            # Busy workers finish on the old code, then retire (see release); callers waiting
            # for a worker go to the new pool.
            idle, _ = previous.close(replaced=True)
            for worker in idle:
                worker.kill()

    def last_modified(self, name: str) -> datetime:
        """When the function was registered or last reconfigured (UTC)."""
        with self._lock:
            return self._modified[name]

    def remove(self, name: str) -> None:
        """Delete a function: running invocations finish, later ones get ResourceNotFound."""
        spec, _ = self._resolve(name)
        self._install(spec, None)

    def prepare(self, spec: FunctionSpec) -> tuple[WorkerPool, dict[str, Any] | None]:
        """A pool for a new version of a function with one worker initialised (its handler
        imported), not yet serving: (pool, None), or (pool, the init error) when the new code
        does not import. `commit` installs it; `discard` drops it."""
        limit = (
            spec.reserved_concurrency
            if spec.reserved_concurrency is not None
            else self.max_concurrency_default
        )
        pool = WorkerPool(spec, limit)
        acquired, _ = pool.acquire(0)
        assert acquired
        request_id = str(uuid.uuid4())
        try:
            worker, failure = self._start_worker(spec, pool, request_id, trial=True)
        except LambdaServiceError as error:
            pool.release(None, False)
            return pool, {"errorType": error.error_type, "errorMessage": error.message}
        if failure is not None:
            pool.release(worker, False)
            return pool, failure.error_document()
        pool.release(worker, True)  # warm and idle: the first invocation after commit uses it
        return pool, None

    def commit(self, pool: WorkerPool) -> None:
        self._install(pool.spec, pool)

    def discard(self, pool: WorkerPool) -> None:
        idle, _ = pool.close()
        for worker in idle:
            worker.kill()

    def functions(self) -> list[FunctionSpec]:
        with self._lock:
            return list(self._functions.values())

    def worker_pids(self, name_or_arn: str) -> list[int]:
        """Process ids of the function's live workers (idle or busy), e.g. to kill one."""
        _, pool = self._resolve(name_or_arn)
        with pool.condition:
            return [worker.process.pid for worker in pool.workers]

    def get(self, name_or_arn: str) -> FunctionSpec:
        """The function a name, a partial ARN or an ARN (optionally `:$LATEST`) designates."""
        return self._resolve(name_or_arn)[0]

    def _resolve(self, name_or_arn: str) -> tuple[FunctionSpec, WorkerPool]:
        name, qualifier = parse_function_name(name_or_arn)
        with self._lock:
            spec = self._functions.get(name)
            pool = self._pools.get(name)
        if spec is None or pool is None or qualifier not in (None, LATEST):
            arn = name_or_arn
            if not name_or_arn.startswith("arn:"):
                arn = f"arn:aws:lambda:{self.region}:{DEFAULT_ACCOUNT_ID}:function:{name}"
                if qualifier:
                    arn += f":{qualifier}"
            raise ResourceNotFoundError(f"Function not found: {arn}")
        return spec, pool

    # -- invocation ---------------------------------------------------------------------

    def invoke(
        self,
        name_or_arn: str,
        payload: bytes,
        invocation_type: str = "RequestResponse",
        client_context: str | None = None,
    ) -> InvokeResult:
        """Invoke like Lambda's Invoke API. Blocking for RequestResponse; Event answers 202
        at once and runs in the background. Service errors raise LambdaServiceError."""
        if self._closed:
            raise RuntimeStoppedError("The local Lambda runtime is shut down.")
        spec, pool = self._resolve(name_or_arn)
        text = _payload_text(payload)
        arn = spec.arn
        if invocation_type == "DryRun":
            return InvokeResult(204, b"", None)
        if invocation_type == "Event":
            thread = threading.Thread(
                target=self._invoke_event,
                args=(spec, pool, arn, payload, text, client_context),
                name=f"event-{spec.name}",
                daemon=True,
            )
            with self._lock:
                self._background.add(thread)
            thread.start()
            return InvokeResult(202, b"", None)
        if invocation_type != "RequestResponse":
            raise InvalidParameterValueError(
                f"1 validation error detected: Value '{invocation_type}' at 'invocationType' "
                "failed to satisfy constraint: Member must satisfy enum value set: "
                "[Event, RequestResponse, DryRun]"
            )
        # Reserved concurrency is a hard limit on Lambda (429); otherwise the limit is this
        # machine's, so callers queue for a worker instead of seeing throttles AWS would not.
        wait = 0.0 if spec.reserved_concurrency is not None else DEFAULT_QUEUE_WAIT_SECONDS
        return self._invoke(spec, pool, arn, payload, text, client_context, wait)

    def _invoke_event(
        self,
        spec: FunctionSpec,
        pool: WorkerPool,
        arn: str,
        payload: bytes,
        text: str,
        client_context: str | None,
    ) -> None:
        try:
            # Lambda queues asynchronous events; they wait for capacity, never throttled.
            self._invoke(spec, pool, arn, payload, text, client_context, EVENT_QUEUE_WAIT_SECONDS)
        except RuntimeStoppedError:
            pass
        except Exception as error:  # no caller to tell: say it where the function's logs go
            with contextlib.suppress(Exception):
                self.echo(spec.name, f"asynchronous invocation not run: {error!r}")
        finally:
            with self._lock:
                self._background.discard(threading.current_thread())

    def _invoke(
        self,
        spec: FunctionSpec,
        pool: WorkerPool,
        arn: str,
        payload: bytes,
        text: str,
        client_context: str | None,
        wait_seconds: float,
    ) -> InvokeResult:
        started = time.monotonic()
        try:
            result = self._invoke_with_faults(
                spec, pool, arn, payload, text, client_context, wait_seconds
            )
        except TooManyRequestsError:
            if self.metrics is not None:  # CloudWatch hook: a throttle is not an invocation
                self.metrics.throttled(spec.name)
            raise
        if self.metrics is not None:  # CloudWatch hook: Invocations, Errors, Duration
            elapsed_ms = (time.monotonic() - started) * 1000
            self.metrics.invoked(spec.name, elapsed_ms, result.function_error is not None)
        return result

    def _invoke_with_faults(
        self,
        spec: FunctionSpec,
        pool: WorkerPool,
        arn: str,
        payload: bytes,
        text: str,
        client_context: str | None,
        wait_seconds: float,
    ) -> InvokeResult:
        faults = self.faults
        if faults is not None:
            injected = faults.before_invoke(spec, payload)
            if injected is not None:
                return injected
        result = self._run(spec, pool, arn, text, client_context, wait_seconds)
        if faults is not None:
            result = faults.after_invoke(spec, payload, result)
        return result

    def _run(
        self,
        spec: FunctionSpec,
        pool: WorkerPool,
        arn: str,
        text: str,
        client_context: str | None,
        wait_seconds: float,
    ) -> InvokeResult:
        while True:
            try:
                acquired, worker = pool.acquire(wait_seconds)
                break
            except PoolReplacedError:  # a hot reload: the invocation runs the new version
                spec, pool = self._resolve(spec.name)
                arn = spec.arn
        if not acquired:
            raise TooManyRequestsError("Rate Exceeded.")
        keep = False
        request_id = str(uuid.uuid4())
        try:
            if worker is None:
                worker, failure = self._start_worker(spec, pool, request_id)
                if failure is not None:
                    return failure
            started = time.monotonic()
            outcome = worker.invoke(request_id, arn, text, client_context)
            with self._lock:
                self.stats.invocations += 1
                self.stats.by_function[spec.name] = self.stats.by_function.get(spec.name, 0) + 1
            if outcome.kind == "result":
                keep = True
                body = outcome.payload.encode("utf-8")
                if len(body) > MAX_PAYLOAD_BYTES:
                    return function_error(
                        {
                            "errorMessage": "Response payload size exceeded maximum allowed "
                            f"payload size ({MAX_PAYLOAD_BYTES} bytes).",
                            "errorType": "Function.ResponseSizeTooLarge",
                        }
                    )
                return InvokeResult(200, body, None)
            if outcome.kind == "error":
                keep = True
                assert outcome.document is not None
                return function_error(outcome.document)
            elapsed_ms = (time.monotonic() - started) * 1000
            if outcome.kind == "timeout":
                worker.kill()
                return self._timed_out(worker, request_id, elapsed_ms)
            return self._crashed(worker, request_id, elapsed_ms, worker.wait_exit())
        finally:
            pool.release(worker, keep)

    def _start_worker(
        self, spec: FunctionSpec, pool: WorkerPool, request_id: str, *, trial: bool = False
    ) -> tuple[Worker, InvokeResult | None]:
        """A new worker, initialised; with the invocation's result when initialisation failed
        (then the worker is gone). `trial`: `prepare`'s, whose lines are no invocation's."""
        env = self._worker_environment(spec)
        stream = env["AWS_LAMBDA_LOG_STREAM_NAME"]
        if not trial:
            return self._init_worker(spec, pool, request_id, env, stream)
        self._trial_streams.add(stream)
        try:
            return self._init_worker(spec, pool, request_id, env, stream)
        finally:  # its later lines, if it serves, are its invocations'
            self._trial_streams.discard(stream)

    def _init_worker(
        self,
        spec: FunctionSpec,
        pool: WorkerPool,
        request_id: str,
        env: dict[str, str],
        stream: str,
    ) -> tuple[Worker, InvokeResult | None]:
        try:
            worker = Worker(
                spec,
                env,
                lambda line: self._log(spec, stream, line),
                self._fork_server(env["LAMBDA_TASK_ROOT"]),
            )
        except OSError as error:  # e.g. the code directory does not exist
            raise LambdaServiceError(f"Cannot start {spec.name}: {error}") from error
        with pool.condition:
            # A pool replaced while this worker started (a hot reload, UpdateFunctionCode)
            # still serves this invocation: it had started, and running ones finish on the
            # version they began with (release retires the worker). Only a shutdown refuses.
            stopping = pool.closed and not pool.replaced
            pool.workers.add(worker)
        if stopping:
            worker.kill()
            raise RuntimeStoppedError("The local Lambda runtime is shutting down.")
        with self._lock:
            self.stats.cold_starts += 1
        failure = worker.wait_ready(INIT_TIMEOUT_SECONDS + spec.timeout_seconds)
        if failure is None:
            return worker, None
        # Lambda answers the invocation that met a failed init with the init's error, and
        # initialises a fresh environment next time.
        elapsed_ms = (time.monotonic() - worker.started) * 1000
        if failure.kind == "timeout":
            worker.kill()
            return worker, self._timed_out(worker, request_id, elapsed_ms, start_line=True)
        if failure.kind == "crash":
            return worker, self._crashed(
                worker, request_id, elapsed_ms, worker.wait_exit(), start_line=True
            )
        worker.wait_exit()
        assert failure.document is not None
        document = failure.document
        self._log(spec, stream, f"START RequestId: {request_id} Version: {LATEST}")
        self._finish_log(spec, worker, request_id, elapsed_ms, document["errorType"], "error")
        return worker, function_error(document)

    def _timed_out(
        self, worker: Worker, request_id: str, elapsed_ms: float, start_line: bool = False
    ) -> InvokeResult:
        spec = worker.spec
        if start_line:
            self._log(spec, worker.stream, f"START RequestId: {request_id} Version: {LATEST}")
        seconds = f"{spec.timeout_seconds:.2f}"
        self._log(
            spec,
            worker.stream,
            f"{_utc_stamp()} {request_id} Task timed out after {seconds} seconds",
        )
        self._finish_log(spec, worker, request_id, elapsed_ms, None, "timeout")
        return function_error(
            {
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"RequestId: {request_id} Error: Task timed out after "
                f"{seconds} seconds",
            }
        )

    def _crashed(
        self,
        worker: Worker,
        request_id: str,
        elapsed_ms: float,
        returncode: int | None,
        start_line: bool = False,
    ) -> InvokeResult:
        spec = worker.spec
        if start_line:
            self._log(spec, worker.stream, f"START RequestId: {request_id} Version: {LATEST}")
        message = (
            f"RequestId: {request_id} Error: Runtime exited with error: "
            f"{exit_description(returncode)}"
        )
        self._log(spec, worker.stream, f"{message}\rRuntime.ExitError")
        self._finish_log(spec, worker, request_id, elapsed_ms, "Runtime.ExitError", "error")
        return function_error({"errorType": "Runtime.ExitError", "errorMessage": message})

    def _finish_log(
        self,
        spec: FunctionSpec,
        worker: Worker,
        request_id: str,
        elapsed_ms: float,
        error_type: str | None,
        status: str,
    ) -> None:
        self._log(spec, worker.stream, f"END RequestId: {request_id}")
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {elapsed_ms:.2f} ms\t"
            f"Billed Duration: {max(int(elapsed_ms + 0.999), 1)} ms\t"
            f"Memory Size: {spec.memory_mb} MB\tStatus: {status}"
        )
        if error_type:
            report += f"\tError Type: {error_type}"
        self._log(spec, worker.stream, report)

    def _worker_environment(self, spec: FunctionSpec) -> dict[str, str]:
        stream = log_stream_name()
        env = dict(spec.environment)
        # Fault injection (ftb/localcloud/faults) may add FTB_FAULT_* variables to new workers.
        fault_environment = getattr(self.faults, "worker_environment", None)
        if fault_environment is not None:
            env.update(fault_environment(spec))
        # What Lambda sets itself (reserved: it wins over the template), plus what makes the
        # function talk to the local endpoint and never to AWS.
        env.update(
            {
                "LAMBDA_TASK_ROOT": str(Path(spec.code_dir).resolve()),
                "_HANDLER": spec.handler,
                "AWS_LAMBDA_FUNCTION_NAME": spec.name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
                "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group_name,
                "AWS_LAMBDA_LOG_STREAM_NAME": stream,
                **self._shared_environment(),
            }
        )
        return env

    def _shared_environment(self) -> dict[str, str]:
        """The part of a worker's environment that is the same for every function (the
        zygote's environment)."""
        return {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "TZ": ":UTC",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_python{_PYTHON_VERSION}",
            "AWS_LAMBDA_FUNCTION_VERSION": LATEST,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_ENDPOINT_URL": self._endpoint_url,
            # No user AWS configuration or instance metadata: nothing may reach AWS.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            # There is no X-Ray daemon locally.
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }

    def _fork_server(self, task_root: str) -> Zygote | None:
        if self._preload is None:
            return None
        with self._lock:
            zygote = self._zygotes.get(task_root)
            if zygote is None and not self._closed:
                environment = {**self._shared_environment(), "LAMBDA_TASK_ROOT": task_root}
                zygote = self._zygotes[task_root] = Zygote(environment, self._preload, task_root)
            return zygote

    def _retire_zygotes(self) -> None:
        """Stop the zygotes of code directories no function uses any more (replaced by a hot
        reload, or removed) once their last worker has ended and none has started for the
        idle timeout (a new version's first worker starts before the swap)."""
        cutoff = time.monotonic() - self._idle_timeout
        with self._lock:
            in_use = {str(Path(spec.code_dir).resolve()) for spec in self._functions.values()}
            unused = [
                (root, zygote)
                for root, zygote in self._zygotes.items()
                if root not in in_use and zygote.last_used < cutoff and not zygote.has_workers()
            ]
            for root, _ in unused:
                del self._zygotes[root]
        for _, zygote in unused:
            zygote.stop()

    # -- logs -----------------------------------------------------------------------------

    def _log(self, spec: FunctionSpec, stream: str, line: str) -> None:
        if stream in self._trial_streams:
            with contextlib.suppress(Exception):
                self.echo(spec.name, f"{TRIAL_MARK} {line}")
            return
        with contextlib.suppress(Exception):  # a broken terminal must not break the function
            self.echo(spec.name, line)
        if self.metrics is not None:  # CloudWatch hook: embedded-metric-format lines
            with contextlib.suppress(Exception):
                self.metrics.log_line(spec.name, line)
        if self._logs is not None:
            self._logs.put(spec.log_group_name, stream, line)

    def flush_logs(self, timeout: float = 5.0) -> bool:
        """Ship every log line written so far; True when done within the timeout."""
        return True if self._logs is None else self._logs.flush(timeout)

    # -- lifecycle ------------------------------------------------------------------------

    def _reap_idle(self) -> None:
        # Lambda reclaims environments left idle for a while; so do we, to free memory.
        interval = min(max(self._idle_timeout / 4, 0.05), 30.0)
        while not self._stopping.wait(interval):
            with self._lock:
                pools = list(self._pools.values())
            for pool in pools:
                for worker in pool.retire_idle(self._idle_timeout):
                    worker.kill()
            self._retire_zygotes()

    def shutdown(self) -> None:
        """Kill every worker (no orphans) and ship the remaining log lines."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._stopping.set()
            pools = list(self._pools.values())
        for pool in pools:
            idle, busy = pool.close()
            for worker in busy:
                worker.terminate()  # its invoking thread reports the end and cleans up
            for worker in idle:
                worker.kill()
        with self._lock:
            background = list(self._background)
        for thread in background:
            thread.join(timeout=2)
        for zygote in list(self._zygotes.values()):
            zygote.stop()
        if self._logs is not None:
            self._logs.close(timeout=3)


def parse_function_name(name_or_arn: str) -> tuple[str, str | None]:
    """(name, qualifier) of `name`, `name:qualifier`, `account:function:name[:q]` or an ARN."""
    parts = name_or_arn.split(":")
    if name_or_arn.startswith("arn:") and len(parts) >= 7:
        return parts[6], parts[7] if len(parts) > 7 else None
    if len(parts) >= 3 and parts[1] == "function":
        return parts[2], parts[3] if len(parts) > 3 else None
    if len(parts) == 2:
        return parts[0], parts[1]
    return name_or_arn, None


def _payload_text(payload: bytes) -> str:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise RequestTooLargeError(
            "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
        )
    if not payload.strip():
        return "{}"
    try:
        text = payload.decode("utf-8")
        json.loads(text)
    except (UnicodeDecodeError, ValueError) as error:
        raise InvalidRequestContentError(
            f"Could not parse request body into json: {error}"
        ) from None
    return text
