"""Where the time goes: one end-to-end run under py-spy, over the whole process tree.

`python -m bench.profile [--tasks N] [--rate R]` starts a local cloud, attaches
`py-spy record --subprocesses --nonblocking` to it, runs N tasks through it, and writes the
raw collapsed stacks and a flame graph (SVG) under bench/results/, then prints the frames
that hold the most samples (inclusive), by process role. Sampling profiles stay valid on a
loaded machine: they tell shares of time, not absolute figures.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import signal
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import end_to_end
from bench.cloud import BenchCloud
from bench.runner import RESULTS


def _role(frames: list[str]) -> str:
    # py-spy labels every stack with the root process; a worker's stack starts in worker.py.
    if any("lambda_runtime/worker.py" in frame for frame in frames[:4]):
        return "lambda workers"
    return "ftb local (endpoint, API, pollers, Step Functions engine)"


def summarize(raw: Path, top: int = 25) -> str:
    """Inclusive sample counts of the project's and moto's frames, per process role."""
    inclusive: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    totals: collections.Counter[str] = collections.Counter()
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, text = line.rpartition(" ")
        if not stack or not text.isdigit():
            continue
        count = int(text)
        frames = stack.split(";")
        role = _role(frames)
        totals[role] += count
        for frame in set(frames[1:]):
            if any(part in frame for part in ("ftb/", "moto/", "handlers/", "botocore/client")):
                inclusive[role][frame] += count
    lines = []
    for role, total in totals.most_common():
        lines.append(f"== {role}: {total} samples")
        for frame, count in inclusive[role].most_common(top):
            lines.append(f"{count / total:6.1%}  {frame}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--rate", type=float, default=0.0, help="process-task's FAILURE_RATE")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    py_spy = shutil.which("py-spy") or str(Path(__import__("sys").executable).parent / "py-spy")
    work_dir = Path(tempfile.mkdtemp(prefix="ftb-profile-"))
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    raw = args.out / f"profile-{stamp}.txt"
    cloud = BenchCloud(
        "profile", work_dir, set_env={"process-task:FAILURE_RATE": f"{args.rate:g}"}
    ).start()
    assert cloud.process is not None
    recorder = subprocess.Popen(
        [
            py_spy,
            "record",
            "--pid",
            str(cloud.process.pid),
            "--subprocesses",
            "--nonblocking",
            "--rate",
            "50",
            "--format",
            "raw",
            "--output",
            str(raw),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)
    try:
        figures = end_to_end.measure_cloud(cloud, args.tasks)
    finally:
        recorder.send_signal(signal.SIGINT)
        recorder.wait(timeout=60)
        cloud.stop()
    print(
        f"{figures['tasks']} tasks: {figures['tasks_per_second']} tasks/s, "
        f"drain {figures['drain_seconds']} s"
    )
    print(summarize(raw))
    print(f"raw stacks: {raw}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
