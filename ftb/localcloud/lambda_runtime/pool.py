"""Execution environments, parent side: a worker process per environment, a pool per function.

A worker is `worker.py` run by path, or forked from the runtime's zygote (`forking.py`) when
that cannot differ from running it; requests and answers cross its pipes as frames
(`frames.py`).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ftb.localcloud.lambda_runtime import frames
from ftb.localcloud.lambda_runtime.errors import RuntimeStoppedError
from ftb.localcloud.lambda_runtime.forking import ForkedProcess, Zygote, ZygoteUnavailableError
from ftb.localcloud.lambda_runtime.model import FunctionSpec

WORKER_SCRIPT = (Path(__file__).parent / "worker.py").resolve()


def exit_description(returncode: int | None) -> str:
    # Lambda's runtime (written in Go) words it as "exit status 1" / "signal: killed".
    if returncode is None:
        return "signal: killed"
    if returncode < 0:
        try:
            name = signal.strsignal(-returncode) or f"signal {-returncode}"
        except ValueError:
            name = f"signal {-returncode}"
        return f"signal: {name.lower()}"
    return f"exit status {returncode}"


class Outcome:
    """What happened to one invocation inside a worker."""

    def __init__(self, kind: str, document: dict[str, Any] | None = None, payload: str = ""):
        self.kind = kind  # result | error | timeout | crash
        self.document = document
        self.payload = payload


class Worker:
    """One execution environment (a worker process) of one function."""

    def __init__(
        self,
        spec: FunctionSpec,
        env: dict[str, str],
        emit: Callable[[str], None],
        zygote: Zygote | None = None,
    ):
        self.spec = spec
        self.stream = env["AWS_LAMBDA_LOG_STREAM_NAME"]
        self._emit = emit
        request_read, self._request_fd = os.pipe()
        self._response_fd, response_write = os.pipe()
        self.process: subprocess.Popen[bytes] | ForkedProcess
        try:
            self.process = self._fork(zygote, env, request_read, response_write) or self._spawn(
                env, request_read, response_write
            )
        except BaseException:
            os.close(self._request_fd)
            os.close(self._response_fd)
            raise
        finally:
            os.close(request_read)
            os.close(response_write)
        self._reader = threading.Thread(
            target=self._read_output, name=f"log-{spec.name}-{self.process.pid}", daemon=True
        )
        self._reader.start()
        self.started = time.monotonic()
        self.invocations = 0
        self.idle_since = self.started
        self._close_lock = threading.Lock()

    def _fork(
        self, zygote: Zygote | None, env: dict[str, str], request_read: int, response_write: int
    ) -> ForkedProcess | None:
        """The worker forked from the zygote; None when it must be a fresh interpreter."""
        if zygote is None or zygote.refusal(env, self.spec.code_dir) is not None:
            return None
        if not os.path.isdir(self.spec.code_dir):  # as Popen's cwd= would fail
            raise FileNotFoundError(f"No such file or directory: {self.spec.code_dir!r}")
        try:
            return zygote.fork(env, self.spec.code_dir, request_read, response_write)
        except ZygoteUnavailableError:
            return None

    def _spawn(
        self, env: dict[str, str], request_read: int, response_write: int
    ) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                sys.executable,
                "-u",  # unbuffered: log lines reach the log as they are written
                "-B",  # do not write __pycache__ into the code directory
                str(WORKER_SCRIPT),
                str(request_read),
                str(response_write),
                str(os.getpid()),
            ],
            env=env,
            cwd=self.spec.code_dir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(request_read, response_write),
            # Its own process group: Ctrl-C in the terminal reaches `ftb local`, which
            # then stops the workers; and a kill takes the function's children too.
            start_new_session=True,
        )

    def _read_output(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        for raw in iter(stdout.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            self._emit(line)
        stdout.close()

    def wait_ready(self, timeout: float) -> Outcome | None:
        """None when ready; else why not (initError document, crash or timeout)."""
        try:
            message = self._read_frame(time.monotonic() + timeout)
        except TimeoutError:
            return Outcome("timeout")
        except (OSError, ValueError):
            return Outcome("crash")
        if message is None:
            return Outcome("crash")
        if message.get("type") == "initError":
            return Outcome("initError", message["error"])
        return None

    def invoke(
        self, request_id: str, arn: str, payload: str, client_context: str | None
    ) -> Outcome:
        timeout = self.spec.timeout_seconds
        request = {
            "type": "invoke",
            "requestId": request_id,
            "invokedFunctionArn": arn,
            "payload": payload,
            "deadlineMs": int((time.time() + timeout) * 1000),
            "clientContext": client_context,
        }
        self.invocations += 1
        try:
            frames.write_frame(self._request_fd, request)
            message = self._read_frame(time.monotonic() + timeout)
        except TimeoutError:
            return Outcome("timeout")
        except (OSError, ValueError):  # EPIPE, or a pipe closed by shutdown: the worker is gone
            return Outcome("crash")
        if message is None:
            return Outcome("crash")
        if message["type"] == "error":
            return Outcome("error", message["error"])
        return Outcome("result", payload=message["payload"])

    def _read_frame(self, deadline: float) -> dict[str, Any] | None:
        header = self._read_exactly(frames.HEADER.size, deadline)
        if header is None:
            return None
        (size,) = frames.HEADER.unpack(header)
        body = self._read_exactly(size, deadline)
        return None if body is None else json.loads(body)

    def _read_exactly(self, size: int, deadline: float) -> bytes | None:
        data = bytearray()
        while len(data) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            if self._response_fd < 0:  # closed: the worker is gone
                return None
            # poll, not select: select fails on descriptors above 1023 in a busy process
            poller = select.poll()
            poller.register(self._response_fd, select.POLLIN)
            if not poller.poll(max(int(remaining * 1000), 1)):
                raise TimeoutError
            chunk = os.read(self._response_fd, min(size - len(data), 1 << 20))
            if not chunk:
                return None
            data.extend(chunk)
        return bytes(data)

    def kill(self) -> int | None:
        """Kill the worker (and anything it started); wait until its output is shipped."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        try:
            returncode = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            returncode = None
        self.close()
        return returncode

    def wait_exit(self, timeout: float = 2.0) -> int | None:
        """The exit status of a worker that is ending by itself (after a crash)."""
        try:
            returncode: int | None = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            returncode = None
        if returncode is None:
            self.kill()
            return None
        # Its process group may hold children that still write to the log pipe.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.close()
        return returncode

    def terminate(self) -> None:
        """Kill the process group only: the thread invoking this worker sees it end and
        cleans up (closing the pipes under its feet could hand it someone else's fd)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def close(self) -> None:
        self._reader.join(timeout=2)
        with self._close_lock:
            fds, self._request_fd, self._response_fd = (
                (self._request_fd, self._response_fd),
                -1,
                -1,
            )
        for fd in fds:
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)


class PoolReplacedError(Exception):
    """The function was replaced (a hot reload) or removed while this caller waited for a
    worker: look the function up again (its new pool, or ResourceNotFound)."""


class WorkerPool:
    """The workers of one function and its concurrency limit."""

    def __init__(self, spec: FunctionSpec, limit: int) -> None:
        self.spec = spec
        self.limit = limit
        self.idle: list[Worker] = []
        self.workers: set[Worker] = set()
        self.in_use = 0  # slots taken: invocations running or workers starting
        self.closed = False
        self.replaced = False
        self.condition = threading.Condition()

    def acquire(self, wait_seconds: float) -> tuple[bool, Worker | None]:
        """Take a slot: (True, an idle worker) or (True, None: start one); (False, None) when
        the limit is reached and no slot frees up within `wait_seconds`."""
        deadline = time.monotonic() + wait_seconds
        ended: list[Worker] = []
        try:
            with self.condition:
                while True:
                    if self.replaced:
                        raise PoolReplacedError(self.spec.name)
                    if self.closed:
                        raise RuntimeStoppedError("The local Lambda runtime is shutting down.")
                    while self.idle and self.idle[-1].process.poll() is not None:
                        # Ended while idle (killed from outside, its zygote gone): Lambda
                        # would never hand out a dead environment; a new one starts instead.
                        ended.append(self.idle.pop())
                        self.workers.discard(ended[-1])
                    if self.idle:
                        self.in_use += 1
                        return True, self.idle.pop()  # the most recently used: the warmest
                    if self.in_use < self.limit:
                        self.in_use += 1
                        return True, None
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False, None
                    self.condition.wait(remaining)
        finally:
            for worker in ended:
                worker.close()

    def release(self, worker: Worker | None, keep: bool) -> None:
        """Give the slot back; a kept worker goes idle (warm), unless the pool is closed."""
        retire = None
        with self.condition:
            self.in_use -= 1
            if worker is not None:
                if keep and not self.closed:
                    worker.idle_since = time.monotonic()
                    self.idle.append(worker)
                else:
                    self.workers.discard(worker)
                    retire = worker if keep else None
            self.condition.notify()
        if retire is not None:
            retire.kill()

    def retire_idle(self, idle_seconds: float) -> list[Worker]:
        """Take out the workers idle for longer than `idle_seconds` (the caller kills them)."""
        cutoff = time.monotonic() - idle_seconds
        with self.condition:
            stale = [worker for worker in self.idle if worker.idle_since < cutoff]
            for worker in stale:
                self.idle.remove(worker)
                self.workers.discard(worker)
        return stale

    def close(self, replaced: bool = False) -> tuple[list[Worker], list[Worker]]:
        """Stop handing out workers: (idle workers, busy or starting workers). `replaced`: the
        function lives on in another pool, where waiting callers go."""
        with self.condition:
            self.closed = True
            self.replaced = replaced
            idle = list(self.idle)
            busy = [worker for worker in self.workers if worker not in idle]
            self.workers.clear()
            self.idle.clear()
            self.condition.notify_all()
        return idle, busy
