"""One Lambda execution environment: imports a handler once, then serves invocations.

Started by the runtime (`pool.py`) as `python -u <this file> <request fd> <response fd>`,
run by path (not `-m ftb...`) so that nothing of this project leaks onto the function's
`sys.path`: like Lambda's /var/task, `LAMBDA_TASK_ROOT` comes first. Standard library only.

Protocol (both directions, `frames.py`): a 4-byte big-endian length, then a UTF-8 JSON
document.
- worker -> runtime, once: {"type": "ready", "initMs"} or {"type": "initError", "error"}.
- runtime -> worker: {"type": "invoke", "requestId", "invokedFunctionArn", "payload" (JSON
  text), "deadlineMs" (epoch ms), "clientContext" (base64 JSON or null)}.
- worker -> runtime: {"type": "result", "payload"} or {"type": "error", "error"}.

The function's own stdout and stderr are the worker's, which the runtime ships as the log
stream. The START/END/REPORT lines are written there too, so they stay in order with the
function's output.
"""

from __future__ import annotations

import base64
import importlib
import importlib.util
import json
import os
import resource
import sys
import threading
import time
import traceback
from typing import Any


def _load_sibling(name: str, path: str) -> Any:
    """A module of the local cloud loaded by path under a private name: the worker shares the
    frame protocol (frames.py) and the fault hooks with the runtime without importing the
    `ftb` package, so nothing of the project lands on the function's `sys.path`."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


_HERE = os.path.dirname(os.path.abspath(__file__))
_frames = _load_sibling("_ftb_worker_frames", os.path.join(_HERE, "frames.py"))
read_frame = _frames.read_frame
write_frame = _frames.write_frame


class FaultError(Exception):
    """A runtime error with Lambda's own errorType (Runtime.ImportModuleError, ...)."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


class ClientContext:
    def __init__(self, document: dict[str, Any]) -> None:
        self.client = document.get("client")
        self.custom = document.get("custom")
        self.env = document.get("env")


class LambdaContext:
    """The attributes and method of Lambda's Python context object."""

    def __init__(
        self,
        request_id: str,
        invoked_function_arn: str,
        deadline_ms: int,
        client_context: str | None,
    ) -> None:
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
        self.invoked_function_arn = invoked_function_arn
        self.memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        self.aws_request_id = request_id
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.identity = None
        self.client_context = (
            ClientContext(json.loads(base64.b64decode(client_context))) if client_context else None
        )
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)


def load_handler(handler: str) -> Any:
    """Import the handler as Lambda's Python runtime does, with its error types."""
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as error:
        raise FaultError(
            "Runtime.MalformedHandlerName", f"Bad handler '{handler}': {error}"
        ) from None
    module_name = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise FaultError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}"
        ) from None
    except SyntaxError as error:
        raise FaultError(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{module_name}': {error}",
            [f'  File "{error.filename}" Line {error.lineno}\n    {error.text}'],
        ) from None
    function = getattr(module, function_name, None)
    if function is None:
        raise FaultError(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        )
    return function


def error_document(error: BaseException, request_id: str | None = None) -> dict[str, Any]:
    """The payload Lambda returns for an unhandled exception."""
    if isinstance(error, FaultError):
        document: dict[str, Any] = {
            "errorMessage": error.message,
            "errorType": error.error_type,
            "stackTrace": error.trace,
        }
    else:
        frames = traceback.extract_tb(error.__traceback__)[1:]  # drop this module's frame
        document = {
            "errorMessage": str(error),
            "errorType": type(error).__name__,
            "stackTrace": traceback.format_list(frames),
        }
    if request_id:
        document["requestId"] = request_id
    return document


def log_error(document: dict[str, Any]) -> None:
    # Lambda writes an unhandled error as ONE log event; "\r" keeps it on one line here too.
    lines = [f"[ERROR] {document['errorType']}: {document['errorMessage']}"]
    if document.get("stackTrace"):
        lines.append("Traceback (most recent call last):")
        lines.extend(entry.rstrip("\n") for entry in document["stackTrace"])
    print("\r".join(lines).replace("\n", "\r"), flush=True)


def _max_memory_mb() -> int:
    # Peak RSS of this process image. Linux keeps ru_maxrss across exec, so it would report
    # the parent's size at fork time; VmHWM starts afresh with the new image.
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return usage // (1024 * 1024) if sys.platform == "darwin" else usage // 1024


def _watch_parent(parent_pid: int) -> None:
    # If the runtime dies without killing us (kill -9), do not live on as an orphan.
    while True:
        time.sleep(1.0)
        if os.getppid() != parent_pid:
            os._exit(0)


def _install_faults() -> Any:
    """`ftb local --faults`: crash points of this worker (faults/worker_hooks.py), loaded by
    path like this file, and only when the runtime asked for them."""
    if not os.environ.get("FTB_FAULT_CRASHES"):
        return None
    path = os.path.join(os.path.dirname(_HERE), "faults", "worker_hooks.py")
    return _load_sibling("_ftb_worker_faults", path).install()


def serve(request_fd: int, response_fd: int, parent_pid: int) -> None:
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    task_root = os.environ["LAMBDA_TASK_ROOT"]
    os.chdir(task_root)
    sys.path[0] = task_root  # replaces this script's directory, as /var/task on Lambda

    started = time.monotonic()
    faults = _install_faults()
    try:
        handler = load_handler(os.environ["_HANDLER"])
    except BaseException as error:
        document = error_document(error)
        log_error(document)
        write_frame(response_fd, {"type": "initError", "error": document})
        return
    init_ms = (time.monotonic() - started) * 1000
    write_frame(response_fd, {"type": "ready", "initMs": init_ms})

    first = True
    version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
    memory_size = os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
    while True:
        request = read_frame(request_fd)
        if request is None or request.get("type") != "invoke":
            return
        request_id = request["requestId"]
        print(f"START RequestId: {request_id} Version: {version}", flush=True)
        began = time.monotonic()
        context = LambdaContext(
            request_id,
            request["invokedFunctionArn"],
            request["deadlineMs"],
            request.get("clientContext"),
        )
        try:
            event = json.loads(request["payload"])
            result = handler(event, context)
            try:
                response: dict[str, Any] = {"type": "result", "payload": json.dumps(result)}
            except (TypeError, ValueError) as error:
                raise FaultError(
                    "Runtime.MarshalError", f"Unable to marshal response: {error}"
                ) from None
        except Exception as error:
            document = error_document(error, request_id)
            log_error(document)
            response = {"type": "error", "error": document}
        if faults is not None:
            faults.after_handler()  # may end this worker: the answer is never sent
        sys.stdout.flush()
        sys.stderr.flush()
        duration_ms = (time.monotonic() - began) * 1000
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {max(int(duration_ms + 0.999), 1)} ms\t"
            f"Memory Size: {memory_size} MB\tMax Memory Used: {_max_memory_mb()} MB"
        )
        if first:
            report += f"\tInit Duration: {init_ms:.2f} ms"
            first = False
        print(f"END RequestId: {request_id}", flush=True)
        print(report, flush=True)
        write_frame(response_fd, response)


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
