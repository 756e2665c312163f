"""The run as a picture: throughput over time and the latency distributions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt


def draw(results: dict[str, Any], path: Path) -> None:
    figure, (over_time, intake_hist, e2e_hist) = plt.subplots(1, 3, figsize=(18, 5))
    e2e = results.get("end_to_end", {})
    for key, run in e2e.items():
        series = run.get("completed_per_second") or []
        over_time.plot(range(len(series)), series, label=f"tasks done/s, local, rate {key}")
    for key, run in results.get("bare_engine", {}).items():
        series = run.get("completed_per_second") or []
        over_time.plot(
            range(len(series)), series, linestyle="--", label=f"tasks done/s, bare, rate {key}"
        )
    for clients, level in (results.get("intake", {}).get("levels") or {}).items():
        series = level.get("timeline_per_second") or []
        over_time.plot(
            range(len(series)), series, linestyle=":", label=f"POST/s, {clients} clients"
        )
        latencies = level.get("latencies_ms") or []
        if latencies:
            intake_hist.hist(latencies, bins=60, alpha=0.5, label=f"{clients} clients")
    over_time.set(title="Throughput over time", xlabel="seconds", ylabel="per second")
    over_time.legend(fontsize=7)
    intake_hist.set(title="POST /tasks latency", xlabel="ms", ylabel="requests")
    intake_hist.legend(fontsize=7)
    for label, runs in (("local", e2e), ("bare", results.get("bare_engine", {}))):
        for key, run in runs.items():
            latencies = run.get("latencies_s") or []
            if latencies:
                e2e_hist.hist(latencies, bins=60, alpha=0.4, label=f"{label}, rate {key}")
    e2e_hist.set(title="Task latency (POST to terminal)", xlabel="s", ylabel="tasks")
    e2e_hist.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
