"""The runtime's side of the fork server (`zygote.py`): starts it on first use, asks it for
workers, and stands for each forked worker as a `subprocess.Popen` would.

A worker is forked only when nothing the zygote did before the fork can differ from a fresh
interpreter started with the function's environment and code directory (`fork_refusal`);
else the pool starts it as before, a fresh interpreter of its own.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from ftb.localcloud.lambda_runtime import frames

ZYGOTE_SCRIPT = (Path(__file__).parent / "zygote.py").resolve()
ZYGOTE_READY_SECONDS = 60.0
# Libraries most Python functions import (boto3 is in Lambda's Python runtime; Powertools, its
# Tracer's X-Ray SDK and pydantic are the usual layer), imported once by the zygote when
# installed. A function that does not use them pays nothing: their pages are shared by every
# worker. (The X-Ray SDK builds botocore clients at import: about 15 MB of parsed service
# data per worker otherwise.)
DEFAULT_PRELOAD = (
    "boto3",
    "pydantic",
    "aws_lambda_powertools",
    "aws_lambda_powertools.logging",
    "aws_lambda_powertools.metrics",
    "aws_lambda_powertools.tracing",
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.batch",
    "aws_lambda_powertools.utilities.typing",
    "aws_lambda_powertools.utilities.data_classes",
    "aws_xray_sdk.core",
)
# Variables read when an interpreter (or the C library under it) starts, before any module:
# a fork cannot change what they did, so a worker is forked only when they match the zygote's.
_STARTUP_PREFIXES = ("PYTHON", "LC_", "LD_", "MALLOC_", "GLIBC_")
_STARTUP_NAMES = ("LANG", "TZ")
_SOURCE_SUFFIXES = (".py", ".pyc", ".so", ".pyd", ".pth")
# Room in the zygote's initial environment block (a variable of padding), which a forked
# worker overwrites with its own variables so that /proc/PID/environ shows them, as it
# shows a fresh interpreter's. Lambda allows 4 KB of variables per function.
ENVIRON_SPACE = 64 * 1024
_PAD_VARIABLE = "_FTB_ZYGOTE_ENVIRON_SPACE"


def fork_refusal(
    ready: Mapping[str, Any],
    zygote_env: Mapping[str, str],
    env: Mapping[str, str],
    code_dir: str | Path,
) -> str | None:
    """Why a worker with this environment and code directory cannot be forked from the
    zygote that said `ready` (None: it can)."""
    if ready.get("threads", 1) != 1:
        return "the preload started threads"
    if ready.get("environBlock") is False:
        return "this system does not let a fork show its environment in /proc"
    if sum(len(f"{k}={v}".encode()) + 1 for k, v in env.items()) > ENVIRON_SPACE:
        return "its environment is larger than the zygote's environment block"
    if ready.get("environmentListed"):
        return "the preload read the whole environment"
    for name, seen in ready.get("environmentReads", {}).items():
        if env.get(name) != seen:
            return f"the preload read {name}, which this function sets otherwise"
    for name in set(env) | set(zygote_env):
        if (name.startswith(_STARTUP_PREFIXES) or name in _STARTUP_NAMES) and env.get(
            name
        ) != zygote_env.get(name):
            return f"{name} is read at interpreter start-up"
    # The code directory comes first on the function's sys.path: a module of its own with the
    # name of one the zygote imported would be shadowed by the zygote's copy.
    modules = set(ready.get("modules", ()))
    try:
        entries = os.listdir(code_dir)
    except OSError:
        return None  # the worker itself reports a missing code directory
    for entry in entries:
        name = entry.split(".", 1)[0]
        if name in modules and (
            entry == name or entry.endswith(_SOURCE_SUFFIXES) or entry.endswith(".egg-link")
        ):
            return f"its code directory has its own {name}"
    return None


class ForkedProcess:
    """A worker forked by the zygote: the part of `subprocess.Popen` the pool uses."""

    def __init__(self, pid: int, stdout: IO[bytes]) -> None:
        self.pid = pid
        self.stdout: IO[bytes] | None = stdout
        self.returncode: int | None = None
        self._ended = threading.Event()

    def _set_ended(self, returncode: int) -> None:
        self.returncode = returncode
        self._ended.set()

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._ended.wait(timeout):
            raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout or 0.0)
        assert self.returncode is not None
        return self.returncode


class _Pending:
    """A fork request waiting for the zygote's answer."""

    def __init__(self, log_read: int) -> None:
        self.log_read = log_read
        self.answered = threading.Event()
        self.process: ForkedProcess | None = None
        self.error = "the zygote is gone"


class ZygoteUnavailableError(Exception):
    """The zygote cannot fork this worker (or at all): start a fresh interpreter instead."""


class Zygote:
    """One fork server (per code directory), started on first use."""

    def __init__(
        self, environment: dict[str, str], preload: tuple[str, ...], cwd: str | Path = "/"
    ) -> None:
        self.environment = environment
        self.preload = preload
        self.cwd = cwd
        self.last_used = time.monotonic()
        self.ready: dict[str, Any] | None = None
        self.failure: str | None = None  # why the zygote is not used (it failed to start)
        self._process: subprocess.Popen[bytes] | None = None
        self._socket: socket.socket | None = None
        self._start_lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._state = threading.Lock()
        self._next_id = 0
        self._pending: dict[int, _Pending] = {}
        self._children: dict[int, ForkedProcess] = {}
        self._closed = False

    def _start(self) -> None:
        with self._start_lock:
            if self.ready is not None or self.failure is not None or self._closed:
                return
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                self._process = subprocess.Popen(
                    [
                        sys.executable,
                        "-u",
                        "-B",
                        str(ZYGOTE_SCRIPT),
                        str(theirs.fileno()),
                        str(os.getpid()),
                        ",".join(self.preload),
                    ],
                    env={**self.environment, _PAD_VARIABLE: "." * ENVIRON_SPACE},
                    cwd=self.cwd,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    pass_fds=(theirs.fileno(),),
                    start_new_session=True,  # Ctrl-C reaches `ftb local`, which stops it
                )
            except OSError as error:
                ours.close()
                self.failure = f"cannot start: {error}"
                return
            finally:
                theirs.close()
            self._socket = ours
            ready = self._read_ready(ours.fileno())
            if ready is None:
                self.failure = "it ended before it was ready"
                self._stop_process()
                return
            self.ready = ready
            threading.Thread(target=self._read_replies, name="lambda-zygote", daemon=True).start()

    def _read_ready(self, fd: int) -> dict[str, Any] | None:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        if not poller.poll(int(ZYGOTE_READY_SECONDS * 1000)):
            return None
        try:
            message = frames.read_frame(fd)
        except (OSError, ValueError):
            return None
        return message if message and message.get("type") == "ready" else None

    def refusal(self, env: Mapping[str, str], code_dir: str | Path) -> str | None:
        """Why this worker cannot be forked (None: it can); starts the zygote if needed."""
        self.last_used = time.monotonic()
        self._start()
        self.last_used = time.monotonic()  # the start takes a while: the fork follows
        if self.ready is None:
            return self.failure or "the zygote is stopped"
        return fork_refusal(self.ready, self.environment, env, code_dir)

    def fork(
        self, env: Mapping[str, str], cwd: str | Path, request_fd: int, response_fd: int
    ) -> ForkedProcess:
        """A worker forked with these pipes (the caller closes its copies of them)."""
        if self.ready is None or self._socket is None:
            raise ZygoteUnavailableError(self.failure or "the zygote is stopped")
        log_read, log_write = os.pipe()
        pending = _Pending(log_read)
        try:
            with self._state:
                if self._closed:
                    raise ZygoteUnavailableError("the zygote is stopped")
                self._next_id += 1
                request_id = self._next_id
                self._pending[request_id] = pending
            request = {"type": "fork", "id": request_id, "environment": dict(env), "cwd": str(cwd)}
            with self._send_lock:
                socket.send_fds(self._socket, [b"F"], [request_fd, response_fd, log_write])
                frames.write_frame(self._socket.fileno(), request)
        except (OSError, ZygoteUnavailableError) as error:
            os.close(log_read)
            raise ZygoteUnavailableError(f"the zygote is gone: {error}") from error
        finally:
            os.close(log_write)
        pending.answered.wait()
        if pending.process is None:
            os.close(log_read)
            raise ZygoteUnavailableError(pending.error)
        return pending.process

    def _read_replies(self) -> None:
        assert self._socket is not None
        fd = self._socket.fileno()
        while True:
            try:
                message = frames.read_frame(fd)
            except (OSError, ValueError):
                message = None
            if message is None:
                break
            kind = message.get("type")
            if kind in ("forked", "error"):
                with self._state:
                    pending = self._pending.pop(message.get("id", -1), None)
                    if pending is not None and kind == "forked":
                        # Known before the zygote can report its exit (it answers first).
                        pending.process = ForkedProcess(
                            int(message["pid"]), os.fdopen(pending.log_read, "rb")
                        )
                        self._children[pending.process.pid] = pending.process
                if pending is not None:
                    pending.error = str(message.get("message", pending.error))
                    pending.answered.set()
            elif kind == "exit":
                with self._state:
                    process = self._children.pop(int(message["pid"]), None)
                if process is not None:
                    process._set_ended(int(message["returncode"]))
        self._zygote_gone()

    def _zygote_gone(self) -> None:
        """The zygote ended (a crash, or stop()): its workers end with it (they watch it)."""
        with self._state:
            self._closed = True
            pending, self._pending = list(self._pending.values()), {}
            children, self._children = list(self._children.values()), {}
        for waiting in pending:
            waiting.answered.set()
        for process in children:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process._set_ended(-signal.SIGKILL)
        self.ready = None
        self.failure = self.failure or "the zygote ended"

    def has_workers(self) -> bool:
        """Whether it has live workers, or is starting (for one)."""
        if self._start_lock.locked():
            return True
        with self._state:
            return bool(self._children) or bool(self._pending)

    def stop(self) -> None:
        with self._state:
            self._closed = True
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
        self._stop_process()

    def _stop_process(self) -> None:
        if self._process is None:
            return
        with contextlib.suppress(OSError):
            self._process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=5)
