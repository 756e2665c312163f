"""A token bucket: `burst` tokens, refilled at `rate` per second.

One implementation for both uses of a rate limit: a service refusing what is over its quota
(`take`: Step Functions' StartExecution throttling in the fault injector) and a client pacing
itself (`acquire`: wait for the next token). Standard library only, with an injectable clock
and sleep so that tests move time themselves.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class TokenBucket:
    """`burst` tokens, refilled at `rate` per second; each call takes one."""

    def __init__(
        self,
        burst: float,
        rate: float,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"a token bucket needs a positive refill rate, not {rate}")
        self.burst = burst
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._last = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Take a token if there is one (True), else refuse (False): never waits."""
        with self._lock:
            return self._take_or_wait() == 0.0

    def acquire(self) -> None:
        """Take a token, waiting for the refill when there is none."""
        while True:
            with self._lock:
                wait_seconds = self._take_or_wait()
            if wait_seconds == 0.0:
                return
            self._sleep(wait_seconds)

    @property
    def tokens(self) -> float:
        with self._lock:
            self._refill()
            return self._tokens

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now

    def _take_or_wait(self) -> float:
        """0.0 after taking a token; else the seconds until one is there."""
        self._refill()
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1.0 - self._tokens) / self.rate
