"""Companion servers of `ftb local`: started with a port, published, stopped; an early exit said."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ftb.localcloud import companions


def _sleeper(seconds: float) -> companions.Companion:
    return companions.Companion(
        name="sleeper",
        output="SleeperUrl",
        port=0,
        command=lambda state, port: [sys.executable, "-c", f"import time; time.sleep({seconds})"],
        description="(a test companion)",
    )


def test_a_companion_is_started_published_and_stopped(tmp_path: Path) -> None:
    # Given a companion registered for a cloud's state file
    said: list[str] = []
    running = companions.RunningCompanions(tmp_path / "local.json", said.append)
    # When it is started
    urls = running.start([_sleeper(60)])
    # Then its URL is on loopback, under its output, and in the banner lines
    assert urls["SleeperUrl"].startswith("http://127.0.0.1:")
    assert running.banner_lines() == [f"  sleeper       {urls['SleeperUrl']}  (a test companion)"]
    [(_, process)] = running.processes
    # And stopping it ends its process
    running.stop()
    assert process.poll() is not None
    assert said == []


def test_a_companion_that_exits_early_is_reported_with_its_log(tmp_path: Path) -> None:
    said: list[str] = []
    running = companions.RunningCompanions(tmp_path / "local.json", said.append)
    running.start([_sleeper(0)])
    deadline = time.monotonic() + 10
    while not said and time.monotonic() < deadline:
        time.sleep(0.1)
    running.stop()
    assert said and "the sleeper stopped" in said[0] and "local.sleeper.log" in said[0]


def test_registering_twice_keeps_one() -> None:
    before = companions.registered()
    companion = _sleeper(1)
    companions.register(companion)
    companions.register(companion)
    assert len(companions.registered()) == len(before) + (
        0 if any(c.name == "sleeper" for c in before) else 1
    )
    companions._REGISTERED[:] = before
