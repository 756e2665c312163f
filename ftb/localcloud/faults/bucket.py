"""A token bucket: `burst` tokens, refilled at `rate` per second (fractional refill).

It models a service refusing what is over its quota: Step Functions' StartExecution
throttling in the fault injector. Standard library only, with an injectable clock so that
tests move time themselves.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

Clock = Callable[[], float]


class TokenBucket:
    """`burst` tokens, refilled at `rate` per second; each call takes one."""

    def __init__(
        self,
        burst: float,
        rate: float,
        clock: Clock = time.monotonic,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"a token bucket needs a positive refill rate, not {rate}")
        self.burst = burst
        self.rate = rate
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Take a token if there is one (True), else refuse (False): never waits."""
        with self._lock:
            self._refill()
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            return False

    @property
    def tokens(self) -> float:
        with self._lock:
            self._refill()
            return self._tokens

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
