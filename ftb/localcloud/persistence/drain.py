"""A graceful stop's order: intake first, then the pollers, then the running executions.

1. The API stops taking requests (503, see apigateway/intake.py); those under way finish.
2. The pollers stop receiving; the batches they hold are processed (deleted or left to
   reappear), so no message is left in flight.
3. The running executions get until the deadline to end. Those still running then are saved as
   RUNNING and run again after the restart (persistence/stepfunctions.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ftb.localcloud.persistence import stepfunctions

DEFAULT_DRAIN_SECONDS = 10.0
API_REQUEST_SECONDS = 30.0  # API Gateway's integration timeout is 29 s
# Pollers get this long at least, whatever the drain time: a batch left in flight would be
# invisible after the restart for the rest of its visibility timeout (3 minutes on the task
# queue). A poller's long poll is 2 s; its batch's invocation usually takes about a second.
POLLER_SECONDS = 5.0


@dataclass
class DrainResult:
    seconds: float
    requests_left: int
    running_left: int


def drain(
    intake: Any,
    pollers: Iterable[Any],
    region: str,
    *,
    deadline_seconds: float,
    say: Callable[[str], None],
    hurry: Callable[[], bool] = lambda: False,
) -> DrainResult:
    started = time.monotonic()
    deadline = started + deadline_seconds
    requests_left = 0
    if intake is not None:
        intake.close_intake()
        requests_left = intake.wait_idle(min(API_REQUEST_SECONDS, deadline_seconds))
    pollers = list(pollers)
    for poller in pollers:
        poller.signal_stop()
    pollers_deadline = max(deadline, time.monotonic() + POLLER_SECONDS)
    for poller in pollers:
        poller.stop(timeout=max(0.0, pollers_deadline - time.monotonic()))
    running = stepfunctions.running_count(region)
    if running:
        say(
            f"waiting up to {max(0.0, deadline - time.monotonic()):.0f} s for {running} running "
            "execution(s) to end (Ctrl-C again: save now; those still running then run again "
            "at the next start)"
        )
    while running and time.monotonic() < deadline and not hurry():
        time.sleep(0.1)
        running = stepfunctions.running_count(region)
    return DrainResult(time.monotonic() - started, requests_left, running)
