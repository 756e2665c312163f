"""The fork server (zygote) of the local Lambda runtime: imports the libraries most functions
share once, then forks each new worker from itself, so their pages are shared copy-on-write.

Started by the runtime (`forking.py`) as `python -u -B <this file> <control fd> <parent pid>
<module,module,...>`, run by path like `worker.py`, with only the environment every worker
has in common (the runtime's own variables, nothing of any function). Standard library only
until the preload. Single-threaded: a fork copies only the calling thread, so no lock in the
child can be held by a thread that does not exist there.

What the preload makes of the environment is recorded: every variable read while the modules
are imported (os.environ's lookups) is sent to the runtime with the value seen, and the
runtime forks a worker only when its function's environment has the same values for all of
them (else it starts a fresh interpreter, as before). A module that caches a variable at
import can then never show the zygote's value to a function.

Protocol on the control socket (runtime <-> zygote), frames as `frames.py`:
- zygote -> runtime, once: {"type": "ready", "pid", "preloaded": [...], "failed": {...},
  "environmentReads": {name: value or null}, "environmentListed": bool, "modules": [...]}.
- runtime -> zygote: one byte sent with three descriptors (the worker's request pipe, its
  response pipe and its log pipe, SCM_RIGHTS), then {"type": "fork", "id", "environment",
  "cwd", "argv"}.
- zygote -> runtime: {"type": "forked", "id", "pid"} (or "error" with a message), and
  {"type": "exit", "pid", "returncode"} when a worker has ended (a negative returncode is the
  signal that ended it, as `subprocess`).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import importlib.util
import os
import select
import signal
import socket
import sys
import threading
import time
import traceback
from typing import Any, ClassVar

_HERE = os.path.dirname(os.path.abspath(__file__))
WORKER_SCRIPT = os.path.join(_HERE, "worker.py")


def _load_by_path(name: str, path: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


_frames = _load_by_path("_ftb_worker_frames", os.path.join(_HERE, "frames.py"))


class _RecordingEnviron(os._Environ):  # type: ignore[type-arg,name-defined,misc]
    """os.environ while the preload runs: remembers what was looked up."""

    reads: ClassVar[dict[str, str | None]] = {}
    listed = False

    def __getitem__(self, key: str) -> str:
        try:
            value: str = super().__getitem__(key)
        except KeyError:
            _RecordingEnviron.reads.setdefault(key, None)
            raise
        _RecordingEnviron.reads.setdefault(key, value)
        return value

    def __contains__(self, key: object) -> bool:
        found = super().__contains__(key)
        if isinstance(key, str):
            _RecordingEnviron.reads.setdefault(key, os.environ.get(key) if found else None)
        return found

    def __iter__(self) -> Any:
        _RecordingEnviron.listed = True  # the whole environment may have been read
        return super().__iter__()


def preload(modules: list[str]) -> tuple[list[str], dict[str, str]]:
    """Import `modules`, recording the environment they read; (imported, failed: why)."""
    imported, failed = [], {}
    environ_class = os.environ.__class__
    os.environ.__class__ = _RecordingEnviron
    try:
        for name in modules:
            try:
                importlib.import_module(name)
                imported.append(name)
            except Exception as error:  # a library that is not installed: not preloaded
                failed[name] = f"{type(error).__name__}: {error}"
    finally:
        os.environ.__class__ = environ_class
    return imported, failed


def _exit_code(status: int) -> int:
    return os.waitstatus_to_exitcode(status)


class Zygote:
    def __init__(self, control: socket.socket, parent_pid: int) -> None:
        self.control = control
        self.parent_pid = parent_pid
        self.children: set[int] = set()
        self.wake_read, wake_write = os.pipe()
        os.set_blocking(self.wake_read, False)
        os.set_blocking(wake_write, False)
        self.wake_write = wake_write
        signal.set_wakeup_fd(wake_write)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes the poll below
        self.sys_path = list(sys.path)

    def send(self, message: dict[str, Any]) -> None:
        _frames.write_frame(self.control.fileno(), message)

    def serve(self) -> None:
        poller = select.poll()
        poller.register(self.control.fileno(), select.POLLIN)
        poller.register(self.wake_read, select.POLLIN)
        while True:
            events = dict(poller.poll(1000))
            if self.wake_read in events:
                while True:
                    try:
                        if not os.read(self.wake_read, 512):
                            break
                    except BlockingIOError:
                        break
            self.reap()
            if os.getppid() != self.parent_pid:
                return  # the runtime is gone without closing the socket
            if self.control.fileno() in events and not self.receive():
                return

    def receive(self) -> bool:
        """One fork request; False when the runtime has closed the socket."""
        try:
            marker, fds, _, _ = socket.recv_fds(self.control, 1, 3)
        except InterruptedError:
            return True
        if not marker:
            return False
        try:
            request = _frames.read_frame(self.control.fileno())
            if request is None:
                return False
            if len(fds) != 3:
                self.send({"type": "error", "id": request.get("id"), "message": "3 fds"})
                return True
            try:
                pid = self.fork(request, fds)
            except OSError as error:
                self.send({"type": "error", "id": request["id"], "message": str(error)})
                return True
            self.children.add(pid)
            self.send({"type": "forked", "id": request["id"], "pid": pid})
            return True
        finally:
            for fd in fds:
                os.close(fd)

    def reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.children.discard(pid)
            self.send({"type": "exit", "pid": pid, "returncode": _exit_code(status)})

    def fork(self, request: dict[str, Any], fds: list[int]) -> int:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid:
            return pid
        # -- the child: becomes the worker; never returns into the zygote's loop ----------
        code = 1
        try:
            self._become_worker(request, fds)
            code = _run_worker(request["argv"])
        finally:
            os._exit(code)

    def _become_worker(self, request: dict[str, Any], fds: list[int]) -> None:
        os.setsid()  # its own process group, as `start_new_session` gives a spawned worker
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.close(self.wake_read)
        os.close(self.wake_write)
        self.control.close()
        request_fd, response_fd, log_fd = fds
        os.dup2(log_fd, 1)  # stdout and stderr to the runtime's log pipe, as `Popen`
        os.dup2(log_fd, 2)
        os.close(log_fd)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        # The request names the worker's pipes by the numbers the zygote received them at.
        request["argv"] = [str(request_fd), str(response_fd), str(os.getppid())]
        # Exactly the function's environment, as a fresh interpreter would have it.
        os.environ.clear()
        os.environ.update(request["environment"])
        time.tzset()
        _show_environment(request["environment"])
        os.chdir(request["cwd"])
        sys.path[:] = self.sys_path
        sys.argv = [WORKER_SCRIPT, *request["argv"]]
        _name_process(request["environment"].get("AWS_LAMBDA_FUNCTION_NAME", ""))


def _environ_block() -> tuple[int, int] | None:
    """Where this process's initial environment lies in its memory (what /proc/PID/environ
    shows): (start, end), from /proc/self/stat's env_start and env_end; None without /proc."""
    try:
        with open("/proc/self/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[47]), int(fields[48])  # fields 50 and 51 of proc(5), from 1 at pid


def _write_environ_block(data: bytes) -> bool:
    """Overwrite the initial environment block with `data`, NUL-padded; False when it does
    not fit or the system refuses."""
    block = _environ_block()
    if block is None:
        return False
    start, end = block
    if len(data) > end - start:
        return False
    try:
        with open("/proc/self/mem", "r+b", buffering=0) as memory:
            memory.seek(start)
            memory.write(data + b"\0" * (end - start - len(data)))
    except OSError:
        return False
    return True


def _own_environ_block() -> bool | None:
    """Whether a fork can show its function's environment in /proc/PID/environ (tools such as
    `ps e` and psutil read it there, not from the process's os.environ); None: no /proc."""
    block = _environ_block()
    if block is None:
        return None
    with open("/proc/self/environ", "rb") as current:
        return _write_environ_block(current.read())  # the same bytes: a harmless probe


def _show_environment(environment: dict[str, str]) -> None:
    data = b"".join(f"{key}={value}".encode() + b"\0" for key, value in environment.items())
    _write_environ_block(data)


def _name_process(name: str) -> None:
    # The process name (`ps -o comm`, psutil's name()): which function a forked worker runs,
    # since its command line is the zygote's.
    try:
        with open("/proc/self/comm", "w", encoding="utf-8") as comm:
            comm.write(name[-15:])
    except OSError:
        pass


def _run_worker(argv: list[str]) -> int:
    """Run worker.py's main as the interpreter would run it: its exit code, atexit handlers
    and the traceback of an uncaught exception."""
    code = 0
    try:
        worker = _load_by_path("_ftb_worker", WORKER_SCRIPT)
        worker.serve(int(argv[0]), int(argv[1]), int(argv[2]))
    except SystemExit as done:
        if done.code is None:
            code = 0
        elif isinstance(done.code, int):
            code = done.code
        else:
            print(done.code, file=sys.stderr)
            code = 1
    except KeyboardInterrupt:
        code = 130
    except BaseException:
        traceback.print_exc()
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    return code


def main(control_fd: int, parent_pid: int, modules: list[str]) -> None:
    control = socket.socket(fileno=control_fd)
    imported, failed = preload(modules)
    gc.collect()
    # Objects alive now are kept out of the collector's reach: collections in the workers
    # would otherwise write to their headers and copy every page they sit on.
    gc.freeze()
    zygote = Zygote(control, parent_pid)
    zygote.send(
        {
            "type": "ready",
            "pid": os.getpid(),
            "preloaded": imported,
            "failed": failed,
            "environmentReads": _RecordingEnviron.reads,
            "environmentListed": _RecordingEnviron.listed,
            "modules": sorted({name.partition(".")[0] for name in sys.modules}),
            # A thread started by a preloaded module would be missing from every fork (and
            # could hold a lock there): the runtime does not fork from such a zygote.
            "threads": threading.active_count(),
            "environBlock": _own_environ_block(),
        }
    )
    try:
        zygote.serve()
    finally:
        for pid in zygote.children:  # the runtime is gone: so are its workers
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), [m for m in sys.argv[3].split(",") if m])
