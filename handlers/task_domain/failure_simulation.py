"""The simulated failures of the original system, made reproducible.

With a seed, whether an attempt fails depends only on (seed, taskId, attempt): the same run
can be replayed, and a retry (the next attempt) gets a fresh draw. Without a seed, every
draw is random.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

PERMANENT_FAILURE_SUFFIX = "3"


@dataclass(frozen=True)
class FailureSimulation:
    """How often an attempt fails transiently (0 never, 1 always), and the seed, if any."""

    rate: float
    seed: str | None = None


_unseeded = random.Random()


def fails_permanently(task_id: str) -> bool:
    return task_id.endswith(PERMANENT_FAILURE_SUFFIX)


def draw(task_id: str, attempt: int, seed: str | None) -> float:
    """A number in [0, 1) for this attempt of this task."""
    if seed is None:
        return _unseeded.random()
    return random.Random(f"{seed}:{task_id}:{attempt}").random()


def fails_transiently(task_id: str, attempt: int, rate: float, seed: str | None) -> bool:
    """True with probability `rate` (0 never, 1 always)."""
    return draw(task_id, attempt, seed) < rate
