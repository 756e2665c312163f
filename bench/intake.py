"""Intake: POST /tasks through the local API, closed loop (each client sends its next request
when the previous answer arrives), at 1, 8 and 32 clients."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from bench.client import TaskClient, authorizer
from bench.cloud import BenchCloud
from bench.stats import latency_ms, per_second
from ftb.ops.api_auth import Authorize

Progress = Callable[[str], None]


def closed_loop(
    url: str, clients: int, seconds: float, prefix: str, authorize: Authorize | None = None
) -> tuple[list[tuple[float, float, int]], float]:
    """Run `clients` threads for `seconds`: [(finished_at, latency_s, status)], wall seconds."""
    client = TaskClient(url, authorize)
    results: list[tuple[float, float, int]] = []
    lock = threading.Lock()
    start_gate = threading.Barrier(clients + 1)
    stop_at = 0.0

    def run(index: int) -> None:
        mine: list[tuple[float, float, int]] = []
        start_gate.wait()
        n = 0
        while time.monotonic() < stop_at:
            n += 1
            answer = client.submit(f"{prefix}-{index}-{n}-0", {"n": n, "client": index})
            mine.append((time.monotonic(), answer.seconds, answer.status))
        client.close()
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    stop_at = began + seconds
    start_gate.wait()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - began
    return [(at - began, latency, status) for at, latency, status in results], wall


def measure(
    cloud: BenchCloud, quick: bool = False, progress: Progress | None = None
) -> dict[str, Any]:
    seconds = 4.0 if quick else 15.0
    levels = {}
    for clients in (1, 8, 32):
        if progress:
            progress(f"intake: {clients} client(s) for {seconds:.0f} s")
        results, wall = closed_loop(
            cloud.tasks_endpoint,
            clients,
            seconds,
            f"in{clients}-{uuid.uuid4().hex[:6]}",
            authorizer(cloud.state),
        )
        accepted = [r for r in results if r[2] in (200, 202)]
        levels[str(clients)] = {
            "clients": clients,
            "requests": len(results),
            "accepted": len(accepted),
            "errors": len(results) - len(accepted),
            "seconds": round(wall, 2),
            "per_second": round(len(accepted) / wall, 1) if wall else 0.0,
            **latency_ms([r[1] for r in results]),
            "timeline_per_second": per_second([r[0] for r in results], 0.0),
            "latencies_ms": [round(r[1] * 1000, 2) for r in results],
        }
    return {"levels": levels, "seconds_per_level": seconds}
