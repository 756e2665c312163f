"""A token bucket: `burst` tokens, refilled at `rate` per second."""

from __future__ import annotations

import threading
import time
from typing import Any


class TokenBucket:
    """Step Functions' API throttling: `burst` tokens, refilled at `rate` per second."""

    def __init__(self, burst: int, rate: float, clock: Any = time.monotonic) -> None:
        self.burst = burst
        self.rate = rate
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            return False

    @property
    def tokens(self) -> float:
        with self._lock:
            now = self._clock()
            return min(self.burst, self._tokens + (now - self._last) * self.rate)
