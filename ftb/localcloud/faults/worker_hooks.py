"""Fault injection inside a Lambda worker process (the worker side of `ftb.localcloud.faults`).

`lambda_runtime/worker.py` loads this file by path (nothing of the project goes onto the
function's `sys.path`) when `ftb local` set FTB_FAULT_CRASHES for the function, before it
imports the handler. It ends the worker with `os._exit` at chosen points, with a probability:

- `before-call.<service>.<Operation>`: before an AWS call is sent (its side effect never
  happens), e.g. before-call.states.StartExecution;
- `after-call.<service>.<Operation>`: after an AWS call succeeded, before the function goes on
  (the side effect happened, nobody hears of it), e.g. after-call.states.StartExecution;
- `after-handler`: after the handler returned, before its answer reaches the runtime.

`<service>` may be the botocore service name (stepfunctions), the endpoint prefix (states) or
the hyphenized service id (sfn). The runtime reports the end as Lambda does
(Runtime.ExitError) and replaces the worker. Every injected end is appended as one JSON line
to FTB_FAULT_EVENTS, so `ftb local` can count them (a dead worker cannot tell it).

Standard library only at import; botocore is patched when the worker has crash points on AWS
calls (every Python function here has botocore through boto3).
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from dataclasses import dataclass
from typing import Any

CRASHES_VARIABLE = "FTB_FAULT_CRASHES"
EVENTS_VARIABLE = "FTB_FAULT_EVENTS"
SEED_VARIABLE = "FTB_FAULT_SEED"
# A distinctive exit status: the runtime's "Runtime exited with error: exit status 86".
EXIT_STATUS = 86
AFTER_HANDLER = "after-handler"


@dataclass(frozen=True)
class CrashPoint:
    point: str  # before-call | after-call | after-handler
    service: str | None  # None for after-handler
    operation: str | None
    probability: float

    @property
    def label(self) -> str:
        if self.service is None:
            return self.point
        return f"{self.point}.{self.service}.{self.operation}"

    @classmethod
    def parse(cls, text: str, probability: float) -> CrashPoint:
        """`before-call.states.StartExecution`, `after-call.sqs.SendMessage`, `after-handler`."""
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"crash probability {probability} is not within 0..1")
        if text == AFTER_HANDLER:
            return cls(AFTER_HANDLER, None, None, probability)
        parts = text.split(".")
        if len(parts) != 3 or parts[0] not in ("before-call", "after-call") or not all(parts):
            raise ValueError(
                f"crash point {text!r}: expected before-call.<service>.<Operation>, "
                "after-call.<service>.<Operation> or after-handler"
            )
        return cls(parts[0], parts[1].lower(), parts[2], probability)

    def to_json(self) -> dict[str, Any]:
        return {"point": self.label, "probability": self.probability}


class WorkerFaults:
    """The crash points of this worker; `after_handler()` is called by the worker loop."""

    def __init__(self, points: list[CrashPoint], events_path: str | None, seed: str | None):
        self.points = points
        self._events_path = events_path
        # Seeded per worker: reproducible in a test that starts one worker, distinct across.
        self._random = random.Random(f"{seed}:{os.getpid()}") if seed else random.Random()

    def _roll(self, point: CrashPoint) -> None:
        if point.probability > 0 and self._random.random() < point.probability:
            self._end(point.label)

    def _end(self, label: str) -> None:
        function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "?")
        record = {"function": function, "point": label, "pid": os.getpid(), "at": time.time()}
        if self._events_path:
            try:
                # O_APPEND: one small write per line, atomic among concurrent workers.
                fd = os.open(self._events_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    os.write(fd, (json.dumps(record) + "\n").encode("utf-8"))
                finally:
                    os.close(fd)
            except OSError:
                pass
        print(f"[ftb fault] ending this worker at {label} (injected)", flush=True)
        sys.stdout.flush()
        os._exit(EXIT_STATUS)

    def after_handler(self) -> None:
        for point in self.points:
            if point.point == AFTER_HANDLER:
                self._roll(point)

    def _matching(self, kind: str, model: Any) -> list[CrashPoint]:
        if model is None:
            return []
        service_model = model.service_model
        names = {
            str(service_model.service_name).lower(),
            str(service_model.endpoint_prefix).lower(),
            str(service_model.service_id.hyphenize()).lower(),
        }
        return [
            point
            for point in self.points
            if point.point == kind and point.service in names and point.operation == model.name
        ]

    def before_call(self, model: Any = None, **_: Any) -> None:
        for point in self._matching("before-call", model):
            self._roll(point)

    def after_call(self, model: Any = None, http_response: Any = None, **_: Any) -> None:
        # Only after a call that succeeded: its side effect happened.
        status = getattr(http_response, "status_code", 500)
        if status >= 300:
            return
        for point in self._matching("after-call", model):
            self._roll(point)

    def patch_botocore(self) -> None:
        """Register the hooks on every botocore session (clients copy the session's hooks)."""
        if not any(point.service for point in self.points):
            return
        import botocore.session

        original = botocore.session.Session.__init__
        faults = self

        def init(session: Any, *args: Any, **kwargs: Any) -> None:
            original(session, *args, **kwargs)
            # 'before-call' matches every before-call.<service>.<Operation> (hierarchical).
            session.register("before-call", faults.before_call)
            session.register("after-call", faults.after_call)

        botocore.session.Session.__init__ = init  # type: ignore[method-assign,assignment]


def from_environment(environ: dict[str, str] | None = None) -> WorkerFaults | None:
    env = os.environ if environ is None else environ
    text = env.get(CRASHES_VARIABLE)
    if not text:
        return None
    points = [
        CrashPoint.parse(item["point"], float(item["probability"])) for item in json.loads(text)
    ]
    return WorkerFaults(points, env.get(EVENTS_VARIABLE), env.get(SEED_VARIABLE))


def install() -> WorkerFaults | None:
    """Called by the worker before it imports the handler."""
    faults = from_environment()
    if faults is not None:
        faults.patch_botocore()
    return faults
