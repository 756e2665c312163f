"""Start-up to ready (a cold synth, then the synth cache) and Ctrl-C to exit when idle."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.cloud import BenchCloud


def measure(
    work_dir: Path, quick: bool = False, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    if not quick:
        if progress:
            progress("start-up: cold synth (--resynth runs the CDK app through node)")
        cold = BenchCloud("startup-cold", work_dir, extra_args=["--resynth"]).start()
        cold.stop()
        figures["cold_synth_ready_s"] = round(cold.ready_seconds, 2)
        figures["cold_synth_stop_s"] = round(cold.stop_seconds, 2)
    cached_runs = []
    for run in range(1 if quick else 3):
        if progress:
            progress(f"start-up: synth cached, run {run + 1}")
        cloud = BenchCloud(f"startup-cached-{run}", work_dir).start()
        cloud.stop()
        cached_runs.append((cloud.ready_seconds, cloud.stop_seconds))
    # The best of the runs: the others measure the machine's load.
    figures["cached_ready_s"] = round(min(r for r, _ in cached_runs), 2)
    figures["idle_stop_s"] = round(min(s for _, s in cached_runs), 2)
    figures["cached_runs"] = [
        {"ready_s": round(r, 2), "stop_s": round(s, 2)} for r, s in cached_runs
    ]
    return figures
