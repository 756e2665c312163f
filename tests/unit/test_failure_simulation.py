"""The simulated failures of process-task: rate, reproducibility, the "3" suffix."""

from __future__ import annotations

import pytest

from lambda_support.settings import ProcessingSettings
from task_domain.errors import PermanentTaskError, TransientTaskError
from task_domain.failure_simulation import (
    FailureSimulation,
    draw,
    fails_permanently,
    fails_transiently,
)
from task_domain.models import payload_digest
from task_domain.processing import TaskAttempt, process

DRAWS = 20_000


def _settings(rate: float, seed: str | None = None) -> FailureSimulation:
    return FailureSimulation(rate, seed)


def _task(task_id: str = "task-001", attempt: int = 0) -> TaskAttempt:
    return TaskAttempt(task_id=task_id, payload={"a": 1}, attempt=attempt)


@pytest.mark.parametrize("rate", [0.1, 0.3, 0.75])
def test_seeded_failure_rate_over_many_tasks(rate):
    # Given a seed and a rate
    # When many distinct tasks draw
    failures = sum(fails_transiently(f"task-{n}", 0, rate, "seed") for n in range(DRAWS))
    # Then the share that fails is the rate (binomial: 5 standard deviations is < 0.016)
    assert abs(failures / DRAWS - rate) < 0.016


def test_unseeded_failure_rate_over_many_draws():
    # Given no seed and the default rate
    rate = ProcessingSettings().failure_rate
    assert rate == 0.3
    # When the same task draws many times
    failures = sum(fails_transiently("task-001", 0, rate, None) for _ in range(DRAWS))
    # Then the share that fails is the rate
    assert abs(failures / DRAWS - rate) < 0.016


def test_rate_zero_never_fails_and_rate_one_always_fails():
    assert not any(fails_transiently(f"t{n}", 0, 0.0, None) for n in range(1000))
    assert all(fails_transiently(f"t{n}", 0, 1.0, None) for n in range(1000))


def test_a_seed_makes_each_attempt_reproducible():
    # Given a seed
    # When the same (task, attempt) draws twice
    # Then it gets the same number, for every task and attempt
    for n in range(200):
        for attempt in range(3):
            assert draw(f"task-{n}", attempt, "s1") == draw(f"task-{n}", attempt, "s1")


def test_retries_and_seeds_draw_afresh():
    # Given the same task
    # When its attempts (or another seed) draw
    firsts = [draw(f"task-{n}", 0, "s1") for n in range(200)]
    seconds = [draw(f"task-{n}", 1, "s1") for n in range(200)]
    other_seed = [draw(f"task-{n}", 0, "s2") for n in range(200)]
    # Then they are independent draws, not copies (a retry can succeed)
    assert firsts != seconds
    assert firsts != other_seed


def test_without_a_seed_draws_differ():
    assert len({draw("task-001", 0, None) for _ in range(100)}) == 100


@pytest.mark.parametrize("task_id", ["3", "task-3", "task-013", "33", "x_-3"])
def test_ids_ending_in_3_fail_permanently(task_id):
    # Given a task id ending in 3, even with no transient failures
    # When it is processed, on any attempt
    # Then PermanentTaskError, every time
    assert fails_permanently(task_id)
    for attempt in range(3):
        with pytest.raises(PermanentTaskError, match=task_id):
            process(_task(task_id, attempt), _settings(0.0))


@pytest.mark.parametrize("task_id", ["30", "task-31", "task-3a", "3-task", "task-001"])
def test_other_ids_do_not_fail_permanently(task_id):
    assert not fails_permanently(task_id)
    assert process(_task(task_id), _settings(0.0)).task_id == task_id


def test_permanent_wins_over_transient():
    # Given every attempt failing transiently
    # When a task ending in 3 is processed
    # Then the error is still the permanent one (it must not be retried)
    with pytest.raises(PermanentTaskError):
        process(_task("task-3"), _settings(1.0))


def test_transient_failure_names_the_attempt():
    with pytest.raises(TransientTaskError, match="attempt 2"):
        process(_task("task-001", attempt=1), _settings(1.0))


def test_success_returns_digest_one_based_attempt_and_time():
    # Given no failures
    # When the third attempt ($$.State.RetryCount = 2) succeeds
    result = process(_task("task-001", attempt=2), _settings(0.0))
    # Then the result carries the payload digest, attempt 3 and an ISO time
    assert result.payload_digest == payload_digest({"a": 1})
    assert result.attempt == 3
    assert result.processed_at.endswith("Z")
    assert set(result.model_dump(by_alias=True)) == {
        "taskId",
        "payloadDigest",
        "attempt",
        "processedAt",
    }


def test_seeded_process_is_reproducible():
    # Given a seed and a 50 % rate
    settings = _settings(0.5, "replay")

    def outcome(n: int, attempt: int) -> str:
        try:
            process(_task(f"task-{n}0", attempt), settings)
        except TransientTaskError:
            return "transient"
        return "ok"

    # When the same tasks run twice
    first = [outcome(n, a) for n in range(50) for a in range(3)]
    second = [outcome(n, a) for n in range(50) for a in range(3)]
    # Then they fail and succeed identically
    assert first == second
    assert set(first) == {"ok", "transient"}
